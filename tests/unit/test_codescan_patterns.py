"""The code scan on the patterns seen in real code bases: correct code stays silent, misuse is found,
no file can stop the scan, and its outputs (text, JSON, SARIF 2.1.0) say the same thing.

fixtures/codescan/sarif-schema-2.1.0.json is the SARIF 2.1.0 (rtm.5) schema as shipped in the npm
package @microsoft/jest-sarif 1.0.0-beta.0 (lib/schemas/sarif-2.1.0-rtm.5.json, MIT).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from livekit_doctor.checks.codescan.files import parse
from livekit_doctor.checks.codescan.formats import as_json, as_sarif, as_text
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.scan import relevant, scan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codescan"
PATTERNS = FIXTURES / "patterns"
INSTALLED = frozenset({"api", "protocol", "rtc", "agents", "plugins", "blingfire"})  # no livekit.durable
OFFICIAL = Knowledge(family="official", names={"RoomServiceClient": False, "VideoGrant": False},
                     subpackages=INSTALLED)
RTC_ONLY = Knowledge(family="rtc-only", api_importable=False, subpackages=frozenset({"rtc"}))


def found(root: Path, knowledge: Knowledge = OFFICIAL) -> list[tuple[str, str, int]]:
    return [(f.rule, f.path, f.line) for f in scan(root, knowledge).findings]


def test_correct_real_world_patterns_have_no_findings():
    """Relative imports, other livekit.* distributions, ImportError probes, dev/placeholder/test/example
    credentials, clients closed by `async with` callers, by the caller's session, in another method,
    in `finally`, kept in the web app's state and closed in its cleanup hook."""
    report = scan(PATTERNS / "correct", OFFICIAL)
    assert [(f.rule, f.path, f.line, f.message) for f in report.findings] == []
    assert report.skipped == [] and report.analysed == report.files == 8


def test_misuse_real_world_patterns_are_found():
    assert found(PATTERNS / "misuse") == [
        ("LK303", "awaited_builder.py", 7), ("LK303", "awaited_builder.py", 8),
        ("LK304", "client_at_import.py", 4),  # lk_factory.make_client(), across modules
        ("LK305", "closing.py", 6), ("LK305", "closing.py", 15), ("LK305", "closing.py", 21),
        ("LK305", "closing.py", 25),  # an exception skips the close
        ("LK301", "names.py", 3), ("LK301", "names.py", 8), ("LK301", "names.py", 9), ("LK301", "names.py", 10),
        ("LK301", "names.py", 10),
        ("LK304", "no_loop.py", 12), ("LK304", "no_loop.py", 23), ("LK304", "no_loop.py", 31),
        ("LK305", "no_loop.py", 31),  # and nothing closes it
        ("LK308", "secrets.py", 7), ("LK308", "secrets.py", 8), ("LK308", "secrets.py", 13), ("LK308", "secrets.py", 14),
        ("LK301", "third_party_names.py", 2), ("LK301", "third_party_names.py", 2),
        ("LK311", "wrapper_calls.py", 6),  # lk_wrappers.close_room, across modules
    ]


@pytest.mark.parametrize("path,line,message", [
    ("closing.py", 6, "this LiveKitAPI is not closed when the function leaves early: line 8 returns or raises before "
                      "the aclose() (use `async with` or close it in `finally:`)"),
    ("closing.py", 21, "this LiveKitAPI is never closed (nothing in the project calls aclose() on `self.lk`, no "
                       "`async with`): 'Unclosed client session'"),
    ("closing.py", 25, "this LiveKitAPI is not closed when line 26 raises (a refused request raises TwirpError): the "
                       "aclose() after it is skipped (use `async with` or close it in `finally:`)"),
    ("client_at_import.py", 4, "make_client() (from lk_factory) creates a LiveKitAPI and is called at module level "
                               "(import time), outside any coroutine: it raises 'no running event loop'"),
    ("names.py", 3, "`livekit.models` does not exist here: no installed distribution provides livekit.models "
                    "(ModuleNotFoundError)"),
    ("names.py", 8, "VideoGrant does not exist in the installed livekit-api (async); use VideoGrants"),
    ("no_loop.py", 12, "LiveKitAPI() is created in a plain-def FastAPI dependency, which runs in a worker thread with "
                       "no event loop, outside any coroutine: it raises 'no running event loop'"),
    ("no_loop.py", 31, "LiveKitAPI() is created in Django's AppConfig.ready(), which runs with no event loop, outside "
                       "any coroutine: it raises 'no running event loop'"),
    ("secrets.py", 8, "hard-coded API secret as the default of getenv('LIVEKIT_API_SECRET')"),
    ("awaited_builder.py", 7, "WebhookReceiver.receive() is synchronous in the installed livekit-api (async): "
                              "awaiting its result raises TypeError"),
])
def test_misuse_messages(path, line, message):
    assert message in [f.message for f in scan(PATTERNS / "misuse", OFFICIAL).findings
                       if (f.path, f.line) == (path, line)]


def test_missing_distribution_is_judged_by_what_is_installed():
    """livekit.durable is official but not installed here: an install matter, not a misuse."""
    assert found(PATTERNS / "correct", Knowledge(family="official", subpackages=frozenset({"api"}))) == []
    assert ("LK301", "names.py", 3) not in found(PATTERNS / "misuse", Knowledge(family="official"))  # unknown shape


def test_third_party_names_where_only_rtc_is_installed():
    messages = [f.message for f in scan(PATTERNS / "misuse", RTC_ONLY).findings if f.path == "third_party_names.py"]
    assert messages == ["`from livekit import AccessToken`: only the livekit rtc package is installed: `livekit` has "
                        "no top-level AccessToken (use `from livekit import api` then api.AccessToken)",
                        "`from livekit import RoomServiceClient`: only the livekit rtc package is installed: "
                        "`livekit` has no top-level RoomServiceClient (the Node/Go SDK name; use api.LiveKitAPI and "
                        "its .room service)"]


def test_secret_split_into_adjacent_literals_is_masked_and_kept_for_the_redactor():
    secret = [f for f in scan(PATTERNS / "misuse", OFFICIAL).findings if (f.path, f.line) == ("secrets.py", 14)][0]
    assert secret.literal == "Lm4Np6Qr8St0Uv2Wx4Yz6Ab8Cd0Ef2Gh"
    assert secret.source == "api_secret='***')"
    key = [f for f in scan(PATTERNS / "misuse", OFFICIAL).findings if (f.path, f.line) == ("secrets.py", 13)][0]
    assert key.literal == "" and "sk-not-a-livekit" not in as_text(scan(PATTERNS / "misuse", OFFICIAL))


def write(tmp_path: Path, name: str, text: str | bytes) -> None:
    (tmp_path / name).write_bytes(text if isinstance(text, bytes) else text.encode())


def test_no_file_stops_the_scan(tmp_path):
    """Deep but valid files are analysed (or skipped with the reason); the other files still get their findings."""
    head = "from livekit import api\n"
    write(tmp_path, "plus.py", head + "x = " + " + ".join(["1"] * 500) + "\nlk = api.LiveKitAPI()\n")
    write(tmp_path, "elif.py", head + "x = 1\nif x == 0:\n    pass\n"
          + "".join(f"elif x == {i}:\n    pass\n" for i in range(1, 500)) + "lk = api.LiveKitAPI()\n")
    write(tmp_path, "unary.py", head + "x = " + "not " * 900 + "1\nlk = api.LiveKitAPI()\n")  # (named: analysed)
    write(tmp_path, "minus.py", head + "x = " + "-" * 5000 + "1\n")
    report = scan(tmp_path, OFFICIAL)
    assert [(f.rule, f.path, f.line) for f in report.findings] == [
        ("LK304", "elif.py", 1003), ("LK305", "elif.py", 1003), ("LK304", "plus.py", 3), ("LK305", "plus.py", 3)]
    assert report.skipped == [("minus.py", "cannot be parsed: maximum recursion depth exceeded during ast construction"),
                              ("unary.py", "nested too deeply to analyse (RecursionError)")]


def test_files_are_read_the_way_python_reads_them(tmp_path):
    write(tmp_path, "bom.py", b"\xef\xbb\xbffrom livekit import api\nlk = api.LiveKitAPI()\n")
    write(tmp_path, "latin.py", b"# -*- coding: latin-1 -*-\n# caf\xe9 livekit\nfrom livekit import api\n"
                                b"lk = api.LiveKitAPI()\n")
    write(tmp_path, "bad_coding.py", b"# coding: no-such-codec\nimport livekit\n")
    report = scan(tmp_path, OFFICIAL)
    assert [(f.rule, f.path, f.line) for f in report.findings] == [
        ("LK304", "bom.py", 2), ("LK305", "bom.py", 2), ("LK304", "latin.py", 4), ("LK305", "latin.py", 4)]
    assert report.skipped == [("bad_coding.py", "bad encoding declaration: unknown encoding: no-such-codec")]


def test_lines_are_numbered_as_ast_numbers_them(tmp_path):
    """Form feed, \\x85 and \\u2028 do not end a line for Python: the shown line and its suppression must match."""
    write(tmp_path, "ff.py", "from livekit import api\n\x0c\nx = 'a\u2028b\x85c'\n"
                             "lk = api.LiveKitAPI()  # livekit-doctor: ignore[LK305]\n")
    source = parse(tmp_path / "ff.py", tmp_path)
    assert not isinstance(source, str) and source.lines[3] == "lk = api.LiveKitAPI()  # livekit-doctor: ignore[LK305]"
    assert [(f.rule, f.line, f.source) for f in scan(tmp_path, OFFICIAL).findings] == [
        ("LK304", 4, "lk = api.LiveKitAPI()  # livekit-doctor: ignore[LK305]")]


def test_first_pass_keeps_livekit_files_and_project_wrappers():
    contents = {"lk.py": b"from livekit import api\n", "pkg/__init__.py": b"import livekit\n",
                "app.py": b"from .lk import make\n", "other.py": b"from pkg import thing\n",
                "plain.py": b"import os\n", "multi.py": b"from x import (\n    a,\n    lk,\n)\n"}
    assert relevant(contents) == ["lk.py", "pkg/__init__.py", "app.py", "other.py", "multi.py"]


def test_json_and_sarif_say_what_the_text_says():
    report = scan(PATTERNS / "misuse", OFFICIAL)
    data = json.loads(as_json(report))
    assert [(f["rule"], f["path"], f["line"]) for f in data["findings"]] == found(PATTERNS / "misuse")
    assert {f["code"] for f in data["findings"] if f["rule"] == "LK305"} == {"LK305.never-closed",
                                                                             "LK305.not-closed-on-every-path"}
    assert (data["files"], data["analysed"], data["sdk"]) == (10, 10, "livekit-api (async)")
    assert all("Lm4Np6Qr8St0" not in f["source"] for f in data["findings"])
    sarif = json.loads(as_sarif(report, "0.1.0"))
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    results = sarif["runs"][0]["results"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results] == found(PATTERNS / "misuse")
    assert {r["level"] for r in results} == {"error", "warning"}
    rules = sarif["runs"][0]["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_sarif_schema_rejects_a_broken_log():
    """The vendored schema really validates: a result without its message is refused."""
    sarif = json.loads(as_sarif(scan(PATTERNS / "misuse", OFFICIAL), "0.1.0"))
    del sarif["runs"][0]["results"][0]["message"]
    schema = json.loads((FIXTURES / "sarif-schema-2.1.0.json").read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(schema).validate(sarif)


def test_cache_reuses_unchanged_files_only(tmp_path, monkeypatch):
    from livekit_doctor.checks.codescan import scan as scan_module

    project, cache = tmp_path / "app", tmp_path / "cache"
    project.mkdir()
    write(project, "a.py", "from livekit import api\nlk = api.LiveKitAPI()\n")
    write(project, "b.py", "from livekit import api\n\n\nasync def f():\n    lk = api.LiveKitAPI()\n")
    first = scan(project, OFFICIAL, cache=cache)
    parsed = []
    real_parse = scan_module.parse_text
    monkeypatch.setattr(scan_module, "parse_text", lambda text, path, rel: parsed.append(rel) or real_parse(text, path, rel))
    again = scan(project, OFFICIAL, cache=cache)
    assert parsed == [] and again.findings == first.findings and again.analysed == 2
    write(project, "b.py", "from livekit import api\n\n\nasync def f():\n    pass\n    lk = api.LiveKitAPI()\n")
    changed = scan(project, OFFICIAL, cache=cache)
    assert parsed == ["b.py"]  # the project's facts (who closes what) did not change: a.py is reused
    assert [(f.rule, f.path, f.line) for f in changed.findings] == [
        ("LK304", "a.py", 2), ("LK305", "a.py", 2), ("LK305", "b.py", 6)]
    assert [(f.rule, f.path) for f in scan(project, RTC_ONLY, cache=cache).findings][0] == ("LK301", "a.py")


def test_worker_processes_give_the_same_report(monkeypatch):
    from livekit_doctor.checks.codescan import scan as scan_module

    serial = scan(PATTERNS / "misuse", OFFICIAL)
    monkeypatch.setattr(scan_module, "PARALLEL_LINES", 1)
    monkeypatch.setattr(scan_module, "idle_cpus", lambda: 2.0)
    parallel = scan(PATTERNS / "misuse", OFFICIAL)
    assert parallel.findings == serial.findings and parallel.analysed == serial.analysed == 10


def test_the_doctors_scan_never_starts_worker_processes(monkeypatch):
    """A timed-out doctor ends its process at once; spawned workers would outlive it holding its pipes."""
    from livekit_doctor.checks.codescan import scan as scan_module

    monkeypatch.setattr(scan_module, "PARALLEL_LINES", 1)
    monkeypatch.setattr(scan_module, "idle_cpus", lambda: 2.0)
    used: list[int] = []
    real = scan_module._in_workers
    monkeypatch.setattr(scan_module, "_in_workers", lambda root, texts, *rest: used.append(len(texts)) or
                        real(root, texts, *rest))
    in_thread = scan(PATTERNS / "misuse", OFFICIAL, processes=False)
    assert used == [] and len(in_thread.findings) > 0
    assert scan(PATTERNS / "misuse", OFFICIAL).findings == in_thread.findings and used  # the scan command may


def newer_python() -> tuple[str, str] | None:
    """A Python newer than the doctor's on this machine (pyenv keeps several) and its version, if any."""
    import glob
    import shutil
    import subprocess
    import sys

    for minor in range(sys.version_info[1] + 1, sys.version_info[1] + 4):
        name = f"python3.{minor}"
        for candidate in [*sorted(glob.glob(str(Path.home() / f".pyenv/versions/3.{minor}*/bin/{name}"))),
                          shutil.which(name)]:
            if candidate:
                proc = subprocess.run([candidate, "-c", "import platform; print(platform.python_version())"],
                                      capture_output=True, text=True)
                if proc.returncode == 0:
                    return candidate, proc.stdout.strip()
    return None


def test_syntax_newer_than_the_doctor_is_read_by_the_app_interpreter(tmp_path):
    import sys

    found = newer_python()
    if found is None:
        pytest.skip("no Python newer than the doctor's on this machine")
    python, version = found
    write(tmp_path, "app.py", "from livekit import api\n\ntype Rooms = list[str]\nlk = api.LiveKitAPI()\n"
                              "name = f\"{'a' + \"b\"}\"\n")
    write(tmp_path, "broken.py", "import livekit\ndef f(:\n")
    old = scan(tmp_path, OFFICIAL)
    assert [rel for rel, _ in old.skipped] == ["app.py", "broken.py"] and old.findings == []
    if sys.version_info >= (3, 12):
        pytest.skip("the doctor's own Python already reads this syntax")
    app = Knowledge(family="official", subpackages=INSTALLED, python=python, python_version=version)
    report = scan(tmp_path, app)
    assert [(f.rule, f.path, f.line) for f in report.findings] == [("LK304", "app.py", 4), ("LK305", "app.py", 4)]
    assert report.analysed == 1
    assert report.skipped == [("broken.py", f"syntax error at line 2: invalid syntax (also for the app's Python {version})")]
