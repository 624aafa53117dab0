"""A third-party plugin, pip-installed for real, is discovered, run, and its faults reported."""

import json

import pytest

from conftest import env_with_plugins


@pytest.fixture(scope="module")
def plugin_path(plugin_site):
    return plugin_site("example_plugin")


def env_with(plugin_path):
    return env_with_plugins(plugin_path)


def test_plugin_check_is_listed_and_run(plugin_path, run_doctor, tmp_path):
    listed = run_doctor("list", env=env_with(plugin_path))
    row = next(line for line in listed.stdout.splitlines() if line.startswith("EX001"))
    assert "doctor-example-plugin:example" in row

    proc = run_doctor("--select", "EX001", "--format", "json", env=env_with(plugin_path), cwd=tmp_path)
    result = json.loads(proc.stdout)["results"][0]
    assert (result["check_id"], result["status"], result["summary"]) == ("EX001", "fail", "no README.md in the project")
    assert proc.returncode == 1


def test_broken_and_clashing_plugins_are_warnings(plugin_path, run_doctor):
    proc = run_doctor("--select", "LK001", env=env_with(plugin_path))
    assert proc.returncode == 0
    assert ("warning: plugin doctor-example-plugin:broken failed to load: ImportError: "
            "example plugin is broken on purpose") in proc.stderr
    assert ("warning: plugin doctor-example-plugin:clash: check LK001 is already provided by "
            "livekit-doctor:builtin; the first one is kept") in proc.stderr
    assert "Platform and Python" in proc.stdout


def test_plugin_check_that_never_returns_is_an_error_and_the_doctor_exits(plugin_path, run_doctor, tmp_path):
    proc = run_doctor("--select", "EX101,LK001", "--format", "json", "--no-snapshot", env=env_with(plugin_path),
                      timeout=60)  # the check sleeps for an hour: a doctor waiting for it would time out here
    results = {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}
    assert (results["EX101"]["status"], results["EX101"]["summary"]) == ("error", "timed out after 0.5 s")
    assert results["LK001"]["status"] == "pass"
    assert proc.returncode == 1


def test_plugins_with_a_cycle_or_an_unknown_need_are_left_out_with_a_warning(plugin_path, run_doctor):
    proc = run_doctor("list", env=env_with(plugin_path), timeout=60)
    assert proc.returncode == 0
    assert ("warning: plugin doctor-example-plugin:cyclic: cycle in needs/after: EX301 -> EX302 -> EX301; "
            "the plugin is skipped") in proc.stderr
    assert ("warning: plugin doctor-example-plugin:typo: EX401 needs LK999, which no plugin provides; "
            "the plugin is skipped") in proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines()[1:]}
    assert "EX001" in listed and not listed & {"EX301", "EX302", "EX401"}


def test_a_plugin_result_links_to_no_docs_page_when_it_declares_none(plugin_path, run_doctor, tmp_path):
    proc = run_doctor("--select", "EX001,LK001", "--format", "json", "--no-snapshot", env=env_with(plugin_path),
                      cwd=tmp_path)
    results = {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}
    assert (results["EX001"]["docs"], results["LK001"]["docs"]) == ("", "docs/checks/LK001.md")
