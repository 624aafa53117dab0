"""The code-scan rules on the fixture projects: exact rule IDs and lines, per installed SDK."""

from __future__ import annotations

from pathlib import Path

import pytest

from livekit_doctor.checks.code import CHECKS, rule_result
from livekit_doctor.checks.codescan.files import parse, python_files
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.codescan.scan import scan
from livekit_doctor.result import Severity

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codescan"
OFFICIAL = Knowledge(family="official", names={"LiveKitAPI": True, "RoomServiceClient": False, "VideoGrant": False,
                                               "VideoGrants": True, "AccessToken": True, "TokenVerifier": True})
THIRD_PARTY = Knowledge(family="third-party", api_importable=False,
                        names={"RoomServiceClient": True, "VideoGrant": True, "LiveKitAPI": False})
RTC_ONLY = Knowledge(family="rtc-only", api_importable=False)


def found(project: str, knowledge: Knowledge = OFFICIAL, **kw) -> list[tuple[str, str, int]]:
    report = scan(FIXTURES / project, knowledge, **kw)
    return [(f.rule, f.path, f.line) for f in report.findings]


def test_original_broken_endpoint():
    assert found("broken_original") == [("LK301", "main.py", 6), ("LK305", "main.py", 15), ("LK302", "main.py", 16)]


def test_all_awaits_removed():
    assert found("awaits_removed") == [("LK304", "main.py", 8), ("LK305", "main.py", 8), ("LK306", "main.py", 14),
                                       ("LK306", "main.py", 15)]


@pytest.mark.parametrize("project", ["correct_lazy", "livekit_examples"])
def test_correct_code_has_no_findings(project):
    assert found(project) == []


def test_same_code_judged_by_the_installed_sdk():
    assert found("third_party", OFFICIAL) == [("LK301", "main.py", 4)] * 3
    assert found("third_party", THIRD_PARTY) == [("LK303", "main.py", 10)]
    assert found("correct_lazy", THIRD_PARTY) == [("LK301", "main.py", 6), ("LK303", "main.py", 31)]
    assert found("correct_lazy", RTC_ONLY) == [("LK301", "main.py", 6)]


@pytest.mark.parametrize("rule,expected", [
    ("LK301", [1, 2, 3]),
    ("LK302", [9, 10, 18, 19]),
    ("LK303", [5, 6]),
    ("LK304", [3, 7, 10, 14]),
    ("LK305", [5]),
    ("LK306", [8]),  # line 10 carries `# livekit-doctor: ignore[LK306]`
    ("LK307", [8, 10]),
    ("LK308", [5, 5, 7, 7]),
    ("LK309", [7, 11]),
    ("LK310", [5]),
    ("LK311", [9]),
    ("LK312", [9]),
    ("LK313", [16]),
    ("LK314", [11]),
    ("LK315", [8]),
])
def test_each_rule_on_its_fixture(rule, expected):
    report = scan(FIXTURES / "rules", OFFICIAL)
    lines = [f.line for f in report.findings if f.rule == rule and f.path == f"{rule.lower()}.py"]
    assert lines == expected
    assert not [f for f in report.findings if f.rule == rule and f.path != f"{rule.lower()}.py"]


@pytest.mark.parametrize("project, knowledge", [("rules", OFFICIAL), ("patterns", OFFICIAL), ("correct_lazy", RTC_ONLY),
                                                ("third_party", THIRD_PARTY)])
def test_every_finding_has_a_code_its_rule_declares(project, knowledge):
    report = scan(FIXTURES / project, knowledge)
    assert report.findings
    assert all(RULES[f.rule].code_of(f) in dict(RULES[f.rule].codes) for f in report.findings)


def test_a_rule_check_has_one_finding_per_code_each_with_its_places():
    report = scan(FIXTURES / "rules", OFFICIAL)
    result = rule_result(RULES["LK308"], report)
    assert [(f.code, f.severity, [(loc.path, loc.line) for loc in f.locations]) for f in result.findings] == [
        ("hardcoded-secret", Severity.WARN, [("lk308.py", 5), ("lk308.py", 7)]),
        ("hardcoded-key", Severity.WARN, [("lk308.py", 5), ("lk308.py", 7)])]
    assert [f.fix for f in result.findings] == [RULES["LK308"].fix, RULES["LK308"].fix_of("hardcoded-key")]
    assert "Rotate" in result.findings[0].fix and "LIVEKIT_API_KEY" in result.findings[1].fix
    assert result.summary.startswith("4 findings: lk308.py:5 hard-coded API ")
    assert all(loc.message.startswith("LK308 hard-coded API ") for loc in result.locations)
    (never_awaited,) = rule_result(RULES["LK302"], report).findings
    assert (never_awaited.code, never_awaited.severity, len(never_awaited.locations)) == ("never-awaited", Severity.FAIL, 4)
    assert never_awaited.message.startswith("4 findings: lk302.py:9 room.create_room() returns a coroutine")
    assert rule_result(RULES["LK302"], scan(FIXTURES / "correct_lazy", OFFICIAL)).findings == ()


def test_livekit_api_that_does_not_import_is_explained_by_the_sdk_check():
    (finding,) = rule_result(RULES["LK301"], scan(FIXTURES / "correct_lazy", RTC_ONLY)).findings
    assert finding.code == "api-not-importable"
    declared = {c.name: c for c in next(chk for chk in CHECKS if chk.id == "LK301").codes}
    assert "LK101.rtc-only" in declared["api-not-importable"].explained_by
    assert declared["unknown-name"].explained_by == ()  # wrong code, whatever is installed


def test_secret_literals_are_kept_for_the_redactor_only():
    report = scan(FIXTURES / "rules", OFFICIAL)
    secrets = {f.literal for f in report.findings if f.rule == "LK308"}
    assert secrets == {"", "fixture-secret-0123456789abcdefXYZ"}
    assert all("fixture-secret" not in f.message for f in report.findings)


@pytest.mark.parametrize("secret", [
    "RUiznT4BXFt0eUrMuPdxXX7JotBuhnNmt7tFEyaGZ1ixdldx",  # "xXX" by chance: leaked by the old placeholder test
    "aB3TodoQz9fakeR2x8yourK1sampleZ0pW",  # placeholder words inside a random string are chance too
])
def test_a_random_secret_is_no_placeholder_because_of_a_chance_substring(tmp_path, secret):
    (tmp_path / "app.py").write_text(f"from livekit import api\nt = api.AccessToken('APIkey1234', {secret!r})\n")
    assert {f.literal for f in scan(tmp_path, OFFICIAL).findings if f.rule == "LK308"} == {"", secret}  # key, secret


@pytest.mark.parametrize("placeholder", ["your-api-secret", "secret_xxxxxxxxxxxxxxxx", "REPLACE_WITH_YOUR_SECRET",
                                         "my-example-secret-key-0123456789", "sk_live_placeholder_0123456789"])
def test_placeholders_are_no_secrets(tmp_path, placeholder):
    (tmp_path / "app.py").write_text(f"from livekit import api\nt = api.AccessToken('APIkey1234', {placeholder!r})\n")
    assert [f for f in scan(tmp_path, OFFICIAL).findings if f.rule == "LK308" and f.literal] == []


def test_suppression_without_ids_silences_every_rule(tmp_path):
    (tmp_path / "a.py").write_text("from livekit import api\n\nlk = api.LiveKitAPI()  # livekit-doctor: ignore\n")
    assert scan(tmp_path, OFFICIAL).findings == []


def test_walk_skips_venvs_build_output_and_excluded(tmp_path):
    for rel in ["app.py", "pkg/mod.py", ".venv/lib/x.py", "node_modules/y.py", "build/z.py", "custom/pyvenv.cfg",
                "custom/lib.py", "tests/test_app.py", "gen/out.py"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x = 1\n")
    files, skipped = python_files(tmp_path, exclude=("gen", "test_*.py"))
    assert sorted(p.relative_to(tmp_path).as_posix() for p in files) == ["app.py", "pkg/mod.py"]
    assert skipped == []


def test_unparsable_files_are_skipped_with_the_reason(tmp_path):
    (tmp_path / "bad.py").write_text("import livekit\ndef broken(:\n")
    (tmp_path / "latin.py").write_bytes(b"# livekit caf\xe9\nx = 1\n")
    (tmp_path / "unrelated.py").write_text("def broken(:\n")  # never mentions livekit: read, not parsed
    (tmp_path / "loop").symlink_to(tmp_path, target_is_directory=True)
    report = scan(tmp_path, OFFICIAL)
    assert report.skipped == [("bad.py", "syntax error at line 2: invalid syntax"), ("latin.py", "not UTF-8 (byte 13)")]
    assert (report.files, report.analysed) == (3, 0)
    assert parse(tmp_path / "missing.py", tmp_path) == "unreadable: No such file or directory"


def test_knowledge_arriving_while_parsing_gives_the_same_verdicts():
    """The doctor parses while the SDK probe runs: files parsed before it answers wait for it."""
    import threading
    from concurrent.futures import Future

    knowledge: Future[Knowledge] = Future()
    timer = threading.Timer(0.05, knowledge.set_result, (THIRD_PARTY,))
    timer.start()
    report = scan(FIXTURES / "broken_original", knowledge)
    timer.join()
    assert report.knowledge is THIRD_PARTY
    assert [(f.rule, f.line) for f in report.findings] == [(f.rule, f.line) for f in
                                                           scan(FIXTURES / "broken_original", THIRD_PARTY).findings]


def test_probe_failure_reaches_the_scan():
    from concurrent.futures import Future

    knowledge: Future[Knowledge] = Future()
    knowledge.set_exception(RuntimeError("probe crashed"))
    with pytest.raises(RuntimeError, match="probe crashed"):
        scan(FIXTURES / "broken_original", knowledge)
