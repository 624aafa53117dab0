import json
import subprocess
import sys

import pytest

# Loaded only by the checks that use them: none may be imported to print help or the list.
LAZY = ("livekit", "aiohttp", "google.protobuf", "jwt", "yaml", "dotenv", "psutil", "asyncio", "ssl")


@pytest.mark.parametrize("command", ["--help", "list"])
def test_help_and_list_import_no_heavy_module(command):
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "livekit_doctor", command],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    modules = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if "|" in line}
    assert sorted(m for m in modules if any(m == top or m.startswith(top + ".") for top in LAZY)) == []
    assert ("Usage: livekit-doctor" in proc.stdout) if command == "--help" else ("LK501" in proc.stdout)


def test_list_shows_id_area_title_plugin(run_doctor):
    proc = run_doctor("list")
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["ID", "AREA", "TITLE", "PLUGIN"]
    row = next(line for line in lines if line.startswith("LK001"))
    assert "environment" in row and "Platform and Python" in row and "livekit-doctor:builtin" in row


def test_explain_prints_docs_page(run_doctor):
    proc = run_doctor("explain", "lk001")
    assert proc.returncode == 0
    assert proc.stdout.startswith("# LK001")
    assert "## How to fix" in proc.stdout


def test_explain_unknown_id_is_usage_error(run_doctor):
    proc = run_doctor("explain", "LK999")
    assert proc.returncode == 2
    assert proc.stderr.strip() == "livekit-doctor: error: unknown check ID: LK999 (see 'livekit-doctor list')"


def test_unknown_select_is_one_line_exit_2(run_doctor):
    proc = run_doctor("--select", "LK9")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == ["livekit-doctor: error: unknown check ID or prefix: LK9 (see 'livekit-doctor list')"]
    assert "Traceback" not in proc.stderr


def test_bad_option_value_is_exit_2_without_traceback(run_doctor):
    proc = run_doctor("--fail-on", "sometimes")
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "--fail-on" in proc.stderr and "Traceback" not in proc.stderr


def test_unwritable_output_is_exit_2(run_doctor, tmp_path):
    proc = run_doctor("--select", "LK001", "--output", str(tmp_path / "missing" / "report.json"))
    assert proc.returncode == 2
    assert "directory" in proc.stderr and "does not exist" in proc.stderr


def test_text_output_one_line_per_check_and_verdict(run_doctor):
    proc = run_doctor("--select", "LK001,LK003")
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    assert [line.split()[:2] for line in lines[:2]] == [["PASS", "LK001"], ["PASS", "LK003"]] or \
        sorted(line.split()[1] for line in lines[:2]) == ["LK001", "LK003"]
    assert lines[-1].startswith("2 passed in ")
    assert "\x1b[" not in proc.stdout  # not a terminal: no colour


def test_json_output_is_a_versioned_document(run_doctor, tmp_path):
    out = tmp_path / "run.json"
    proc = run_doctor("--select", "LK001", "--format", "json", "--output", str(out))
    assert proc.returncode == 0
    doc = json.loads(out.read_text())
    assert doc["schema_version"] == 3
    assert [(r["check_id"], r["status"]) for r in doc["results"]] == [("LK001", "pass")]
    assert doc["verdict"] == "1 passed"


def test_version(run_doctor):
    proc = run_doctor("--version")
    assert proc.returncode == 0
    assert proc.stdout.startswith("livekit-doctor, version ")


def test_github_format_in_github_actions_prints_each_annotation_once(run_doctor, tmp_path):
    from conftest import clean_env

    summary = tmp_path / "summary.md"
    proc = run_doctor("--select", "LK201", "--format", "github", "--no-snapshot",
                      env=clean_env(HOME=str(tmp_path), GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary)))
    assert proc.returncode == 1
    annotations = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith("::error")]
    assert len(annotations) == 1 and annotations[0].startswith("::error title=LK201.missing Credentials found::")
    assert "LK201" in summary.read_text()


def test_missing_project_directory_is_one_line_exit_2(run_doctor, tmp_path):
    proc = run_doctor("--project", str(tmp_path / "nowhere"), "--no-snapshot")
    assert (proc.returncode, proc.stderr.strip()) == (
        2, f"livekit-doctor: error: project directory {tmp_path / 'nowhere'} does not exist")
