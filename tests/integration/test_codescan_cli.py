"""The code scan through the CLI, with real SDK installs deciding the verdicts."""

from __future__ import annotations

import json
import os

import pytest

from conftest import FIXTURES, clean_env
from sdk_venvs import VenvBuildError, ensure_venv

CODESCAN = FIXTURES / "codescan"


@pytest.fixture(scope="module")
def third_party_python():
    try:
        return ensure_venv("third-party")
    except (VenvBuildError, OSError) as exc:
        pytest.fail(f"could not build the third-party SDK venv: {exc}")


def lk3(run_doctor, project, *extra):
    proc = run_doctor("--select", "LK3", "--format", "json", "--no-snapshot", "--project", str(project), *extra,
                      env=clean_env(VIRTUAL_ENV=""))
    assert proc.stdout, proc.stderr
    return proc, {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}


def test_doctor_points_at_the_lines_of_the_broken_endpoint(run_doctor):
    proc, r = lk3(run_doctor, CODESCAN / "broken_original")
    assert proc.returncode == 1
    assert {cid: res["status"] for cid, res in r.items()} == {
        "LK301": "fail", "LK302": "fail", "LK303": "pass", "LK304": "pass", "LK305": "warn", "LK306": "pass",
        "LK307": "pass", "LK308": "pass", "LK309": "pass", "LK310": "pass", "LK311": "pass", "LK312": "pass",
        "LK313": "pass", "LK314": "pass", "LK315": "pass"}
    (never_awaited,) = r["LK302"]["findings"]
    assert (never_awaited["code"], never_awaited["severity"]) == ("LK302.never-awaited", "fail")
    assert never_awaited["locations"] == [{"path": "main.py", "line": 16, "column": 5, "message": (
        "LK302 room.create_room() returns a coroutine that is never awaited, so the call never happens "
        "(RuntimeWarning: coroutine ... was never awaited)")}]
    assert [f["code"] for f in r["LK301"]["findings"]] == ["LK301.unknown-name"]
    assert [(f["code"], f["severity"]) for f in r["LK305"]["findings"]] == [("LK305.never-closed", "warn")]
    assert r["LK302"]["summary"].startswith("1 finding: main.py:16 room.create_room() returns a coroutine")


def test_verdict_follows_the_app_interpreter(run_doctor, third_party_python):
    _, official = lk3(run_doctor, CODESCAN / "third_party")
    _, third = lk3(run_doctor, CODESCAN / "third_party", "--python", str(third_party_python))
    assert (official["LK301"]["status"], official["LK303"]["status"]) == ("fail", "pass")
    assert (third["LK301"]["status"], third["LK303"]["status"]) == ("pass", "fail")
    assert third["LK303"]["facts"]["sdk"] == "third-party synchronous livekit package"
    (awaited,) = third["LK303"]["findings"]
    assert (awaited["code"], [loc["line"] for loc in awaited["locations"]]) == ("LK303.awaited-sync", [10])
    assert {f["code"] for f in official["LK301"]["findings"]} == {"LK301.unknown-name"}


def test_scan_command(run_doctor, tmp_path):
    proc = run_doctor("scan", str(CODESCAN / "awaits_removed"), env=clean_env(VIRTUAL_ENV=""))
    assert proc.returncode == 1
    lines = proc.stdout.splitlines()
    assert lines[0] == "scanned 1 files (18 lines) against the installed livekit-api (async)"
    assert [line.split()[:2] for line in lines if line.startswith("main.py:")] == [
        ["main.py:8:9", "LK304"], ["main.py:8:9", "LK305"], ["main.py:14:5", "LK306"], ["main.py:15:13", "LK306"]]
    assert lines[-1] == "4 findings (3 fail, 1 warn)"
    clean = run_doctor("scan", str(CODESCAN / "correct_lazy"), env=clean_env(VIRTUAL_ENV=""))
    assert (clean.returncode, clean.stdout.splitlines()[-1]) == (0, "0 findings (0 fail, 0 warn)")
    bad = run_doctor("scan", str(tmp_path / "nope"))
    assert bad.returncode == 2 and "does not exist" in bad.stderr and "Traceback" not in bad.stderr


def test_exclude_and_robustness(run_doctor, tmp_path):
    (tmp_path / "ok.py").write_text("from livekit import api\nlk = api.LiveKitAPI()\n")
    (tmp_path / "bad.py").write_text("from livekit import api\ndef broken(:\n")
    (tmp_path / "deep.py").write_text("from livekit import api\nx = " + "not " * 900 + "1\nlk = api.LiveKitAPI()\n")
    (tmp_path / "big.py").write_bytes(b"x = 1\n" * 900_000)  # 5.4 MB
    (tmp_path / "locked.py").write_text("x = 1\n")
    os.chmod(tmp_path / "locked.py", 0)
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "generated").mkdir()
    (tmp_path / "generated" / "g.py").write_text("from livekit import api\nlk = api.LiveKitAPI()\n")
    proc = run_doctor("scan", str(tmp_path), "--exclude", "generated", "--no-cache", env=clean_env(VIRTUAL_ENV=""))
    assert [line.split()[:2] for line in proc.stdout.splitlines() if ".py:" in line and not line.startswith("skip")] \
        == [["ok.py:2:6", "LK304"], ["ok.py:2:6", "LK305"]]
    skipped = sorted(line for line in proc.stdout.splitlines() if line.startswith("skipped"))
    assert skipped[:3] == ["skipped bad.py: syntax error at line 2: invalid syntax",
                           "skipped big.py: larger than 5 MB",
                           "skipped deep.py: nested too deeply to analyse (RecursionError)"]
    assert proc.returncode == 1 and "internal error" not in proc.stderr
    if os.geteuid() != 0:  # root reads anything
        assert "skipped locked.py: unreadable: Permission denied" in skipped


def test_hard_coded_secret_never_printed(run_doctor, tmp_path):
    secret = "s3cr3t-" + os.urandom(12).hex()
    (tmp_path / "app.py").write_text(f'from livekit import api\n\n\nasync def f():\n'
                                     f'    return api.AccessToken("APIliteral001", "{secret}").to_jwt()\n')
    outputs = [run_doctor("scan", str(tmp_path), "--no-cache").stdout]
    for fmt in ("text", "json", "markdown", "junit", "github"):
        proc = run_doctor("--select", "LK308", "--project", str(tmp_path), "--format", fmt, "-v",
                          "--snapshot", f"s-{fmt}.md", env=clean_env(GITHUB_ACTIONS="true"))
        outputs += [proc.stdout, proc.stderr, (tmp_path.parent / tmp_path.name / f"s-{fmt}.md").read_text()
                    if (tmp_path / f"s-{fmt}.md").exists() else ""]
    assert "LK308" in outputs[0] and "hard-coded API secret passed to AccessToken()" in outputs[0]
    assert not [o for o in outputs if secret[:8] in o or secret[-8:] in o]


def test_scan_json_and_sarif(run_doctor, tmp_path):
    import jsonschema

    secret = "s3cr3t-" + os.urandom(12).hex()
    (tmp_path / "app.py").write_text(f'from livekit import api\n\nLIVEKIT_API_SECRET = "{secret[:10]}" "{secret[10:]}"\n'
                                     "lk = api.LiveKitAPI()\n")
    as_json = run_doctor("scan", str(tmp_path), "--format", "json", "--no-cache", env=clean_env(VIRTUAL_ENV=""))
    data = json.loads(as_json.stdout)
    assert as_json.returncode == 1
    assert [(f["code"], f["line"], f["severity"]) for f in data["findings"]] == [
        ("LK308.hardcoded-secret", 3, "warn"), ("LK304.client-outside-coroutine", 4, "fail"),
        ("LK305.never-closed", 4, "warn")]
    assert data["findings"][0]["source"] == "LIVEKIT_API_SECRET = '***'"
    sarif = run_doctor("scan", str(tmp_path), "--format", "sarif", "--no-cache", "--fail-on", "warn",
                       env=clean_env(VIRTUAL_ENV=""))
    log = json.loads(sarif.stdout)
    schema = json.loads((CODESCAN / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(log)
    assert sarif.returncode == 1
    assert [(r["ruleId"], r["level"]) for r in log["runs"][0]["results"]] == [
        ("LK308", "warning"), ("LK304", "error"), ("LK305", "warning")]
    assert not [o for o in (as_json.stdout, sarif.stdout) if secret[:8] in o or secret[-8:] in o]
