"""What the doctor keeps between runs is dropped as soon as the environment or the code changes, and
`--no-cache` never reads it: a real venv gets a package installed and upgraded by pip, a scanned file
is edited, a plugin is installed; each cache is then poisoned to prove which runs read it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import clean_env


def wheel(directory: Path, version: str) -> Path:
    """A minimal livekit-api wheel: `livekit/api/__init__.py` and its metadata (pip installs it like any)."""
    path = directory / f"livekit_api-{version}-py3-none-any.whl"
    info = f"livekit_api-{version}.dist-info"
    files = {
        "livekit/api/__init__.py": "class LiveKitAPI:\n    async def aclose(self):\n        pass\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: livekit-api\nVersion: {version}\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


def pip_install(venv: Path, wheel_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet",
                    "--no-deps", "--no-index", "--disable-pip-version-check", str(wheel_path)],
                   check=True, capture_output=True, timeout=120)


def test_the_sdk_probe_answer_follows_installs_and_upgrades_and_no_cache_bypasses_it(run_doctor, tmp_path):
    venv, cache = tmp_path / "venv", tmp_path / "cache"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    env = clean_env(LIVEKIT_DOCTOR_CACHE=str(cache), VIRTUAL_ENV="")

    def lk101(*extra: str) -> dict:
        proc = run_doctor("--select", "LK101", "--python", str(venv), "--format", "json", "--no-snapshot", *extra,
                          env=env, cwd=tmp_path)
        return json.loads(proc.stdout)["results"][0]

    first = lk101()
    assert (first["status"], first["facts"]["livekit-api"]) == ("fail", None)
    assert [p.suffix for p in (cache / "sdk-probe").iterdir()] == [".json"]

    pip_install(venv, wheel(tmp_path, "1.0.0"))
    installed = lk101()
    assert (installed["status"], installed["facts"]["livekit-api"]) == ("pass", "1.0.0")

    pip_install(venv, wheel(tmp_path, "1.0.1"))
    assert lk101()["facts"]["livekit-api"] == "1.0.1"

    # The kept answer is what a normal run reads: poisoned, it shows; --no-cache probes for real.
    [entry] = (cache / "sdk-probe").iterdir()
    kept = json.loads(entry.read_text())
    kept["value"]["versions"]["livekit-api"] = "6.6.6"
    entry.write_text(json.dumps(kept))
    assert lk101()["facts"]["livekit-api"] == "6.6.6"
    assert lk101("--no-cache")["facts"]["livekit-api"] == "1.0.1"

    cleared = run_doctor("cache", "clear", env=env)
    assert cleared.stdout.strip() == f"removed 1 entry from {cache}"  # the probe's answer (LK101 scans nothing)
    assert not (cache / "sdk-probe").exists()
    assert run_doctor("cache", "dir", env=env).stdout.strip() == str(cache)


def test_the_scan_reanalyses_an_edited_file_and_no_cache_ignores_kept_results(run_doctor, tmp_path):
    project, cache = tmp_path / "app", tmp_path / "cache"
    project.mkdir()
    (project / "ok.py").write_text("from livekit import api\n")
    env = clean_env(LIVEKIT_DOCTOR_CACHE=str(cache), VIRTUAL_ENV="")

    def findings(*extra: str) -> list[str]:
        proc = run_doctor("scan", str(project), "--format", "json", *extra, env=env)
        return [f"{f['path']}:{f['line']} {f['rule']}" for f in json.loads(proc.stdout)["findings"]]

    assert findings() == []
    (project / "ok.py").write_text("from livekit import api\nlk = api.LiveKitAPI()\n")
    assert findings() == ["ok.py:2 LK304", "ok.py:2 LK305"]

    [entry] = (cache / "scan-results").iterdir()
    kept = json.loads(entry.read_text())
    entry.write_text(json.dumps({key: [[], reason] for key, (_, reason) in kept.items()}))
    assert findings() == []  # read from the (poisoned) cache
    assert findings("--no-cache") == ["ok.py:2 LK304", "ok.py:2 LK305"]


def test_list_output_is_replayed_until_a_plugin_is_installed(run_doctor, tmp_path):
    site, cache = tmp_path / "site", tmp_path / "cache"
    site.mkdir()
    env = clean_env(LIVEKIT_DOCTOR_CACHE=str(cache), PYTHONPATH=str(site))
    first = run_doctor("list", env=env)
    assert (cache / "cli-output" / "list.marshal").is_file()
    assert run_doctor("list", env=env).stdout == first.stdout

    (site / "tiny_plugin.py").write_text(
        "from livekit_doctor.plugin import check, passed\n\n"
        "@check('TP001', 'Tiny plugin check', area='tiny')\n"
        "def tiny(ctx):\n    return passed('ok')\n\nCHECKS = [tiny]\n")
    info = site / "tiny_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tiny-plugin\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[livekit_doctor.checks]\ntiny = tiny_plugin\n")
    listed = run_doctor("list", env=env)
    assert "TP001  tiny" in listed.stdout and "TP001" not in first.stdout
