"""The SDK probe never hangs or crashes the doctor: a real interpreter made to misbehave for real.

The app's own `livekit.py` in the project directory is imported by the probe (the app would import
it too), so it can hang, print garbage, or kill the interpreter, exactly as a broken module would.
"""

from __future__ import annotations

import asyncio
import json
import sys

import pytest

from livekit_doctor.checks.plumbing.sdk.interpreter import run_probe
from livekit_doctor.checks.plumbing.sdk.sdk_shape import probe_shape
from conftest import clean_env

HANG = "import time\ntime.sleep(600)\n"
GARBAGE = "import os\nos.write(1, b'<html>not json</html>\\n')\nos._exit(0)\n"
BROKEN_JSON = "import os\nos.write(1, b'LIVEKIT_DOCTOR_PROBE {\"family\": \\n')\nos._exit(0)\n"
EXIT_3 = "import os, sys\nsys.stderr.write('native crash in extension\\n')\nsys.stderr.flush()\nos._exit(3)\n"


def shape_for(project, module_text, timeout=30.0):
    (project / "livekit.py").write_text(module_text)
    env = {k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"}
    return asyncio.run(probe_shape(sys.executable, "--python", project, env, timeout=timeout))


def test_hanging_import_times_out(tmp_path):
    shape = shape_for(tmp_path, HANG, timeout=3)
    assert shape.probe_error == f"the SDK probe did not finish within 3 s in {sys.executable}"


@pytest.mark.parametrize("text, reason", [
    (GARBAGE, "the SDK probe returned garbage in {py}: no result line in its output: '<html>not json</html>'"),
    (BROKEN_JSON, "the SDK probe returned garbage in {py}: Expecting value: line 1 column 12 (char 11)"),
    (EXIT_3, "the SDK probe exited with code 3 in {py}: native crash in extension"),
])
def test_garbage_and_crash_become_probe_errors(tmp_path, text, reason):
    assert shape_for(tmp_path, text).probe_error == reason.format(py=sys.executable)


def test_crashing_probe_is_an_error_result_and_other_checks_still_run(run_doctor, tmp_path):
    (tmp_path / "livekit.py").write_text(EXIT_3)
    env = {k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"}
    proc = run_doctor("--select", "LK1,LK001", "--python", sys.executable, "--format", "json", env=env)
    assert proc.returncode == 1, proc.stderr
    results = {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}
    assert {cid: r["status"] for cid, r in results.items()} == {
        "LK001": "pass", "LK101": "error", "LK102": "error", "LK103": "error", "LK104": "error"}
    assert results["LK101"]["summary"] == (
        f"could not inspect the SDK: the SDK probe exited with code 3 in {sys.executable}: native crash in extension")


@pytest.mark.parametrize("value, message", [
    ("/nonexistent/python", "/nonexistent/python is not a Python interpreter (no such file)"),
    ("/bin/false", "/bin/false is not a working Python interpreter (exit 1)"),
])
def test_python_option_that_is_not_python_is_exit_2(run_doctor, value, message):
    proc = run_doctor("--select", "LK101", "--python", value)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip().splitlines() == [f"livekit-doctor: error: Invalid value for '--python': {message}"]


def test_stale_virtual_env_is_an_error_naming_the_interpreter(run_doctor, tmp_path):
    env = dict(clean_env(), VIRTUAL_ENV=str(tmp_path / "gone"))
    proc = run_doctor("--select", "LK101", "--format", "json", env=env)
    result = json.loads(proc.stdout)["results"][0]
    assert (proc.returncode, result["status"]) == (1, "error")
    assert result["summary"] == f"could not inspect the SDK: cannot run {tmp_path / 'gone' / 'bin' / 'python'}: No such file or directory"
    assert result["facts"]["interpreter_reason"] == f"active virtualenv ($VIRTUAL_ENV={tmp_path / 'gone'})"


def test_rtc_import_that_kills_the_interpreter_is_reported_and_the_rest_is_probed(tmp_path):
    """livekit.rtc is imported in a child process (in parallel with livekit.api): its crash is data."""
    package = tmp_path / "livekit"
    (package / "api").mkdir(parents=True)
    (package / "rtc").mkdir()
    (package / "api" / "__init__.py").write_text("class LiveKitAPI:\n    async def aclose(self):\n        pass\n")
    (package / "rtc" / "__init__.py").write_text("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n")
    env = {k: v for k, v in clean_env().items() if k != "VIRTUAL_ENV"}
    data = asyncio.run(run_probe(sys.executable, tmp_path, env))
    assert data["imports"]["api"] == {"ok": True, "error": None}
    assert data["imports"]["rtc"] == {"ok": False, "error": "importing it crashed the interpreter (killed by signal 11)"}
    assert data["names"]["LiveKitAPI"] is True and data["methods"]["LiveKitAPI.aclose"] == "async"
    assert data["versions"]["livekit-api"]  # the metadata is read even though the child died
