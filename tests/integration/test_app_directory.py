"""The doctor inside an application that has its own `checks/` and `diagnose/` packages (common
names): every entrance (`python -m livekit_doctor`, the console script, the pytest plugin) still
loads the built-in checks, because nothing the doctor installs is named `checks` or `diagnose`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import clean_env

pytestmark = pytest.mark.integration

BOOBY_TRAP = 'raise RuntimeError("the application\'s own {} package was imported by the doctor")\n'


@pytest.fixture
def app_dir(tmp_path: Path) -> Path:
    for name in ("checks", "diagnose"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(BOOBY_TRAP.format(name))
    (tmp_path / "test_app.py").write_text("def test_app():\n    assert True\n")
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=120,
                          env=clean_env(HOME=str(cwd), PYTHONPATH=str(cwd)))


def _builtin_ids() -> set[str]:
    from livekit_doctor import PRODUCT
    from livekit_doctor.registry import load

    return set(load(PRODUCT).checks)


@pytest.mark.parametrize("entrance", ["module", "console-script"])
def test_list_loads_every_builtin_check(app_dir, entrance):
    command = {"module": [sys.executable, "-m", "livekit_doctor"],
               "console-script": [str(Path(sys.executable).with_name("livekit-doctor"))]}[entrance]
    proc = _run([*command, "list"], app_dir)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no plugin failed to load
    listed = {line.split()[0] for line in proc.stdout.splitlines()[1:]}
    assert listed == _builtin_ids() and len(listed) >= 31


def test_pytest_plugin_runs_the_builtin_checks(app_dir):
    proc = _run([sys.executable, "-m", "pytest", "--livekit-doctor", "--livekit-doctor-select", "LK0", "-p",
                 "no:cacheprovider", "-q", "-rA"], app_dir)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for cid in ("LK001", "LK002", "LK003", "LK004"):
        assert f"PASSED ::livekit-doctor::{cid}" in proc.stdout
    assert "5 passed" in proc.stdout  # the app's own test and the four checks
