"""Reports as a user gets them: the snapshot on every run, JUnit, GitHub, `report`, the pytest plugin."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import jsonschema
from markdown_it import MarkdownIt

from conftest import ROOT, env_with_plugins

SCHEMA = json.loads((ROOT / "docs" / "schema" / "run.schema.json").read_text())
SECRET_ENV = {"SECRET_PLUGIN_SECRET": "plugin-secret-0123456789abcdef", "SECRET_PLUGIN_TOKEN": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ",
              "SECRET_PLUGIN_URL": "https://user:pa55w0rd-xyz@example.invalid/x"}


def test_every_run_writes_a_snapshot_in_cwd(run_doctor, tmp_path):
    proc = run_doctor("--select", "LK001")
    snapshots = list(tmp_path.glob("livekit-doctor-snapshot-*.md"))
    assert len(snapshots) == 1 and re.fullmatch(r"livekit-doctor-snapshot-\d{8}T\d{6}Z\.md", snapshots[0].name)
    assert f"snapshot written to {snapshots[0].name}" in proc.stderr
    tokens = MarkdownIt("commonmark").enable("table").parse(snapshots[0].read_text())
    assert tokens[1].content == "LiveKit doctor snapshot"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left behind


def test_no_snapshot_and_chosen_path(run_doctor, tmp_path):
    run_doctor("--select", "LK001", "--no-snapshot")
    assert not list(tmp_path.glob("*.md"))
    proc = run_doctor("--select", "LK001", "--snapshot", "out/snap.md", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == ""  # refused before any check ran
    assert proc.stderr == "livekit-doctor: error: cannot write out/snap.md: directory out does not exist\n"
    (tmp_path / "out").mkdir()
    proc = run_doctor("--select", "LK001", "--snapshot", "out/snap.md")
    assert proc.returncode == 0 and (tmp_path / "out" / "snap.md").is_file()


def test_snapshot_path_that_is_a_directory_is_exit_2(run_doctor, tmp_path):
    (tmp_path / "reports").mkdir()
    proc = run_doctor("--select", "LK001", "--junit", "reports")
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "livekit-doctor: error: Invalid value for '--junit': File 'reports' is a directory.\n"


def test_failing_plugin_run_in_every_output(plugin_site, run_doctor, tmp_path):
    env = env_with_plugins(plugin_site("secret_plugin"), **SECRET_ENV)
    proc = run_doctor("--select", "SEC,LK001", "--format", "json", "--snapshot", "snap.md", "--junit", "j.xml", env=env)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    jsonschema.validate(data, SCHEMA)
    assert {r["check_id"]: r["status"] for r in data["results"]} == {
        "LK001": "pass", "SEC001": "fail", "SEC002": "warn", "SEC003": "error"}
    suite = ET.parse(tmp_path / "j.xml").getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "1", "1")
    # the snapshot carries the same run, and `report` turns it back into JSON and text
    again = run_doctor("report", "snap.md", "--format", "json", env=env)
    assert again.returncode == 0
    assert json.loads(again.stdout)["results"] == data["results"]
    text = run_doctor("report", "snap.md", env=env).stdout
    assert "FAIL  SEC001 Secrets in a failing result" in text and text.rstrip().endswith("2 problems, 1 warning, 1 passed in "
                                                                                          f"{data['duration']:.2f} s")


def test_report_rejects_what_it_cannot_read(run_doctor, tmp_path):
    (tmp_path / "notes.md").write_text("# just notes\n")
    proc = run_doctor("report", "notes.md")
    assert (proc.returncode, proc.stderr) == (2, "livekit-doctor: error: notes.md is neither a livekit-doctor JSON "
                                                 "report nor a snapshot\n")
    proc = run_doctor("report", "missing.json")
    assert proc.returncode == 2 and "missing.json" in proc.stderr and "Traceback" not in proc.stderr


def test_github_actions_annotations_and_step_summary(plugin_site, run_doctor, tmp_path):
    summary = tmp_path / "step-summary.md"
    summary.write_text("previous step\n")
    env = env_with_plugins(plugin_site("secret_plugin"), GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary),
                           **SECRET_ENV)
    proc = run_doctor("--select", "SEC", "--no-snapshot", env=env)
    annotations = [line for line in proc.stderr.splitlines() if line.startswith("::")]
    assert [a.split(" ")[0] for a in annotations] == ["::error", "::warning", "::error"]
    assert annotations[0].startswith("::error file=app/main.py,line=3,col=5,title=SEC001.fail Secrets in a failing result::")
    text = summary.read_text()
    assert text.startswith("previous step\n# LiveKit doctor snapshot")
    assert "<details>" not in text  # the run JSON stays in the snapshot, not in the job summary


def test_pytest_plugin_runs_checks_as_items(plugin_site, tmp_path):
    (tmp_path / "test_app.py").write_text("def test_app():\n    assert True\n")
    env = env_with_plugins(plugin_site("secret_plugin"), **SECRET_ENV)
    base = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", str(tmp_path / "test_app.py")]
    off = subprocess.run(base, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert off.returncode == 0 and "1 passed" in off.stdout  # off by default
    on = subprocess.run([*base, "--livekit-doctor", "--livekit-doctor-select", "SEC,LK001", "--junitxml", "j.xml"],
                        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert on.returncode == 1, on.stdout
    assert "2 failed, 3 passed" in on.stdout  # SEC001 fail, SEC003 error; LK001, SEC002 (warn) and test_app pass
    cases = {c.get("name"): c for c in ET.parse(tmp_path / "j.xml").getroot().iter("testcase")}
    assert set(cases) == {"test_app", "LK001", "SEC001", "SEC002", "SEC003"}
    assert cases["SEC001"].find("failure") is not None and cases["LK001"].find("failure") is None
    strict = subprocess.run([*base, "--livekit-doctor", "--livekit-doctor-select", "SEC002",
                             "--livekit-doctor-fail-on", "warn"], capture_output=True, text=True, env=env,
                            cwd=tmp_path, timeout=120)
    assert strict.returncode == 1 and "1 failed, 1 passed" in strict.stdout
    for out in (on.stdout + on.stderr, (tmp_path / "j.xml").read_text()):
        assert SECRET_ENV["SECRET_PLUGIN_SECRET"] not in out and "pa55w0rd" not in out


def test_show_tokens_keeps_header_and_claims_but_never_the_signature(plugin_site, run_doctor):
    env = env_with_plugins(plugin_site("secret_plugin"), **SECRET_ENV)
    header, payload, signature = SECRET_ENV["SECRET_PLUGIN_TOKEN"].split(".")
    hidden = run_doctor("--select", "SEC002", "--no-snapshot", env=env).stdout
    shown = run_doctor("--select", "SEC002", "--no-snapshot", "--show-tokens", env=env).stdout
    assert "[token redacted]" in hidden and header not in hidden
    assert f"{header}.{payload}.[signature redacted]" in shown
    assert signature not in shown and signature not in hidden
