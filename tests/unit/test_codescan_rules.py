"""The code-scan rules as units: discovered from their package, documented, independent; typed kinds."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path

import pytest

from livekit_doctor.check import markdown_section
from livekit_doctor.checks.codescan import rules as rules_package
from livekit_doctor.checks.codescan.analysis import analyze, suppressed
from livekit_doctor.checks.codescan.files import parse
from livekit_doctor.checks.codescan.kinds import LIVEKIT_API, Kind, attribute, called
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.model import build
from livekit_doctor.checks.codescan.rules import RULES, discover

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "codescan"
OFFICIAL = Knowledge(family="official", names={"RoomServiceClient": False, "VideoGrant": False})
THIRD_PARTY = Knowledge(family="third-party", api_importable=False, names={"LiveKitAPI": False})
FIXTURE_FILES = sorted(FIXTURES.rglob("*.py"))


def facts_of(path: Path, knowledge: Knowledge = OFFICIAL):
    source = parse(path, path.parent)
    assert not isinstance(source, str), source
    return build(source, knowledge)


def test_every_rule_module_is_discovered():
    modules = sorted(p.stem for p in Path(rules_package.__file__).parent.glob("lk*.py"))
    assert list(RULES) == sorted(m[:5].upper() for m in modules) == [f"LK3{n:02d}" for n in range(1, 16)]


@pytest.mark.parametrize("rule_id", list(RULES))
def test_rule_is_a_documented_unit_with_a_fixture(rule_id):
    rule = RULES[rule_id]
    module = importlib.import_module(rule.check.__module__)
    assert module.__name__.rsplit(".", 1)[1].startswith(f"{rule_id.lower()}_")
    assert module.__doc__ and module.__doc__.startswith(f"{rule_id}: ")  # says why the rule exists
    assert rule.severity in ("fail", "warn") and rule.title and rule.fix
    assert rule.codes and all(name and meaning for name, meaning in rule.codes)  # kebab-case, with what it means
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", name) for name, _ in rule.codes)
    assert {c for c, _ in rule.explained_by} <= {name for name, _ in rule.codes}
    page = ROOT / "docs" / "checks" / f"{rule_id}.md"
    assert page.read_text().splitlines()[0] == f"# {rule_id}: {rule.title}"
    section = markdown_section(page.read_text(), "Finding codes")
    assert re.findall(r"^\| `(LK3\d\d\.[a-z-]+)` \|", section, re.M) == [f"{rule_id}.{name}" for name, _ in rule.codes]
    assert [f.rule for f in rule.check(facts_of(FIXTURES / "rules" / f"{rule_id.lower()}.py"), OFFICIAL)]


def test_a_new_rule_module_is_all_it_takes(tmp_path, monkeypatch):
    package = tmp_path / "more_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "helpers.py").write_text("ID = 'not a rule'\n")
    (package / "lk399_sleep_in_def.py").write_text(
        '"""LK399: asyncio.sleep() in a plain def never sleeps."""\n'
        'from livekit_doctor.checks.codescan.kinds import Kind\n'
        'ID, TITLE, SEVERITY, FIX = "LK399", "Sleep in a plain def", "warn", "Use time.sleep()."\n'
        'CODES = {"sleep-in-def": "asyncio.sleep() in a plain def never sleeps"}\n\n\n'
        'def check(facts, sdk):\n'
        '    for call in facts.calls:\n'
        '        if call.context == "def" and call.func == Kind("func", "asyncio.sleep"):\n'
        '            yield facts.finding(ID, call.node, "asyncio.sleep() in a plain def")\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    found = discover([str(package)], "more_rules")
    assert list(found) == ["LK399"] and found["LK399"].severity == "warn"
    assert found["LK399"].codes == (("sleep-in-def", "asyncio.sleep() in a plain def never sleeps"),)
    (tmp_path / "app.py").write_text("import asyncio\n\n\ndef wait():\n    asyncio.sleep(1)\n")
    assert [(f.rule, f.line, f.col) for f in found["LK399"].check(facts_of(tmp_path / "app.py"), OFFICIAL)] == [
        ("LK399", 5, 5)]


@pytest.mark.parametrize("knowledge", [OFFICIAL, THIRD_PARTY], ids=["official", "third-party"])
@pytest.mark.parametrize("path", FIXTURE_FILES, ids=[p.relative_to(FIXTURES).as_posix() for p in FIXTURE_FILES])
def test_rules_are_independent(path, knowledge):
    """Each rule alone yields only its own findings, whatever ran before it on the same facts, and together
    they are exactly what analyze reports."""
    facts = facts_of(path, knowledge)
    alone = {rule_id: list(rule.check(facts, knowledge)) for rule_id, rule in RULES.items()}
    assert all(f.rule == rule_id for rule_id, found in alone.items() for f in found)
    assert {rule_id: list(RULES[rule_id].check(facts, knowledge)) for rule_id in reversed(RULES)} == alone
    expected = [f for found in alone.values() for f in found if not suppressed(f)]
    assert analyze(facts.source, knowledge) == sorted(expected, key=lambda f: (f.line, f.col, f.rule))


def test_suppression_is_applied_centrally_not_by_rules():
    facts = facts_of(FIXTURES / "rules" / "lk306.py")
    assert [f.line for f in RULES["LK306"].check(facts, OFFICIAL)] == [8, 10]  # line 10: ignore[LK306]
    assert [f.line for f in analyze(facts.source, OFFICIAL) if f.rule == "LK306"] == [8]


def test_lambda_at_module_level_creating_the_client(tmp_path):
    """Its body runs when called, not at import: LK305 only (this crashed the scan before the rules were split)."""
    (tmp_path / "app.py").write_text("from livekit import api\n\nget = lambda: api.LiveKitAPI()\n")
    source = parse(tmp_path / "app.py", tmp_path)
    assert [(f.rule, f.line) for f in analyze(source, OFFICIAL)] == [("LK305", 3)]


def test_kind_is_a_typed_value():
    coro = Kind("coro", "room.create_room")
    assert coro == Kind("coro", "room.create_room") and len({coro, Kind("coro", "room.create_room")}) == 1
    assert (coro.owner, coro.member) == ("room", "create_room")
    assert (Kind("method", "rtc.Room.connect").owner, Kind("method", "run_until_complete").owner) == ("rtc.Room", "")
    assert Kind("service", "room").is_instance and not Kind("class", "LiveKitAPI").is_instance
    with pytest.raises(dataclasses.FrozenInstanceError):
        coro.what = "sync"  # type: ignore[misc]
    with pytest.raises(ValueError, match="unknown kind of value 'obj:service'"):
        Kind("obj:service", "room")  # type: ignore[arg-type]


def test_kinds_follow_a_value_through_attributes_and_calls():
    client = called(attribute(LIVEKIT_API, "LiveKitAPI", OFFICIAL), OFFICIAL)
    room = attribute(client, "room", OFFICIAL)
    method = attribute(room, "create_room", OFFICIAL)
    assert (client, room, method) == (Kind("obj", "LiveKitAPI"), Kind("service", "room"),
                                      Kind("method", "room.create_room"))
    assert called(method, OFFICIAL) == Kind("coro", "room.create_room")
    assert called(method, THIRD_PARTY) == Kind("sync", "room.create_room")
    assert attribute(None, "room", OFFICIAL) == Kind("maybe_service", "room")  # `x.room`, x of unknown type
    assert attribute(Kind("maybe_service", "room"), "list_rooms", OFFICIAL) == Kind("method", "room.list_rooms")
    assert attribute(Kind("maybe_service", "room"), "keys", OFFICIAL) is None
