"""The text test that spares parsing (`reach`): every file with a finding is picked, whatever the SDK;
files it rules out are still counted, and reported when the parser refuses them."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from livekit_doctor.checks.codescan.analysis import analyze
from livekit_doctor.checks.codescan.files import decode, parse_text, python_files, read
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.lifetimes import project_of
from livekit_doctor.checks.codescan.reach import Reach
from livekit_doctor.checks.codescan.scan import relevant, scan

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "codescan"
SDKS = {  # every family, names the SDK lacks, unknown subpackages, synchronous service methods
    "official": Knowledge(family="official", names={"RoomServiceClient": False, "VideoGrant": False},
                          subpackages=frozenset({"api", "rtc"})),
    "assumed": Knowledge(),
    "third-party": Knowledge(family="third-party", names={"VideoGrants": False, "AccessToken": True}),
    "rtc-only": Knowledge(family="rtc-only", api_importable=False, subpackages=frozenset({"rtc"})),
    "none": Knowledge(family="none", api_importable=False),
    "sync methods": Knowledge(methods={"sip.create_sip_inbound_trunk": "sync", "room.create_room": "async"}),
}
# Spellings a text test could miss, each with a finding: aliases, line breaks, comments, NFKC identifiers.
SNIPPETS = {
    "aliased runner": "import asyncio as aio\nasync def f():\n    aio.run(g())  # livekit\n",
    "runner imported": "from asyncio import (  # livekit\n    run,\n)\nasync def f():\n    run(g())\n",
    "runner split": "import asyncio  # livekit\nasync def f():\n    asyncio \\\n        .run(g())\n",
    "service on unknown": "# livekit\nasync def f(ctx):\n    ctx.room.delete_room(x)\n",
    "service kept": "# livekit\nasync def f(ctx):\n    svc = ctx.room\n    svc.list_rooms(x)\n",
    "rtc room": "from livekit import rtc\nasync def f():\n    room = rtc.Room()\n    room.connect(u, t)\n",
    "rtc aliased": "from livekit import rtc as r\nasync def f():\n    room = r.Room()\n    room.connect(u, t)\n",
    "fullwidth": "from livekit import api\nlk = api.\uff2civeKitAPI()\n",
    "secret assigned": "# livekit\nLIVEKIT_API_SECRET = (\n    'x8Kq2vN7mPz4Rt9wLs3Yb6Hc1Jd5Fg0A'\n)\n",
    "secret chained": "# livekit\nMY_LK_SECRET = other = 'x8Kq2vN7mPz4Rt9wLs3Yb6Hc1Jd5Fg0A'\n",
    "secret annotated": "# livekit\nLIVEKIT_API_SECRET: Annotated[\n    str, 'doc'\n] = 'x8Kq2vN7mPz4Rt9wLs3Yb6Hc1Jd5Fg0A'\n",
    "getenv default": "import os  # livekit\ns = os.getenv('LIVEKIT_API_SECRET',\n  # dev\n  'x8Kq2vN7mPz4Rt9wLs3Yb6Hc1Jd5Fg0A')\n",
    "keyword": "from livekit.agents import WorkerOptions\nWorkerOptions(api_secret='x8Kq2vN7mPz4Rt9wLs3Yb6Hc1Jd5Fg0A')\n",
    "top-level name": "from livekit import (  # the SDK\n    rtc,\n    Room,\n)\n",
    "service class": "from livekit.api import room\nasync def f():\n    room().anything()\n",
}


def judged(texts: dict[str, str], sdk: Knowledge) -> list[str]:
    """Files with a finding that `reach` rules out (none, or a finding would be lost)."""
    project = project_of(texts)
    reach = Reach.of(sdk, project)
    missed = []
    for rel, text in texts.items():
        parsed = parse_text(text, Path(rel), rel)
        if not isinstance(parsed, str) and analyze(parsed, sdk, project) and not reach.could_find(rel, text):
            missed.append(rel)
    return missed


@pytest.mark.parametrize("sdk", SDKS.values(), ids=SDKS.keys())
def test_every_fixture_with_a_finding_is_picked(sdk):
    texts = {}
    for path in sorted(FIXTURES.rglob("*.py")):
        data = read(path)
        text = decode(data) if isinstance(data, bytes) else ("",)
        if isinstance(text, str):
            texts[path.relative_to(FIXTURES).as_posix()] = text
    assert len(texts) > 30
    assert judged(texts, sdk) == []


@pytest.mark.parametrize("sdk", SDKS.values(), ids=SDKS.keys())
def test_spellings_are_picked(sdk):
    texts = {f"app/{i}.py": text for i, text in enumerate(SNIPPETS.values())}
    assert judged(texts, sdk) == []


def test_each_spelling_has_a_finding():
    """(Otherwise the test above proves nothing for it.)"""
    sdk = SDKS["official"]
    empty = [name for name, text in SNIPPETS.items() if not analyze(parse_text(text, Path("a.py"), "app/a.py"), sdk)]
    assert empty == []


def test_project_wrappers_are_picked_where_called(tmp_path):
    """A project coroutine wrapping the SDK, imported under another name and called as a statement."""
    (tmp_path / "lk.py").write_text("from livekit import api\nasync def kick(n):\n    async with api.LiveKitAPI() as lk:"
                                    "\n        await lk.room.delete_room(n)\n")
    (tmp_path / "views.py").write_text("from .lk import (\n    kick as k,  # the wrapper\n)\ndef f():\n    k(1)\n")
    (tmp_path / "other.py").write_text("from .lk import kick\nasync def f():\n    await kick(1)\n")
    paths, _ = python_files(tmp_path)
    contents = {p.relative_to(tmp_path).as_posix(): read(p) for p in paths}
    texts = {rel: decode(contents[rel]) for rel in relevant(contents)}
    reach = Reach.of(Knowledge(), project_of(texts))
    assert [rel for rel, text in texts.items() if reach.could_find(rel, text)] == ["lk.py", "views.py"]
    assert [(f.rule, f.path) for f in scan(tmp_path, Knowledge()).findings] == [("LK311", "views.py")]


def test_files_ruled_out_are_counted_and_unparsable_ones_reported(tmp_path):
    (tmp_path / "uses.py").write_text("from livekit import api\nlk = api.LiveKitAPI()\n")
    (tmp_path / "mentions.py").write_text("import logging\nlogger = logging.getLogger('livekit.app')\n")
    (tmp_path / "broken.py").write_text(textwrap.dedent("""\
        from livekit import rtc
        x = f"{d["a"]}"
        """))
    report = scan(tmp_path, Knowledge())
    assert [(f.rule, f.path) for f in report.findings] == [("LK304", "uses.py"), ("LK305", "uses.py")]
    assert (report.files, report.analysed) == (3, 2)
    assert [rel for rel, _ in report.skipped] == ["broken.py"]
