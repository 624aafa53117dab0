"""Fix mode on the fixture projects: each fix's exact rewrite, what is left alone, idempotence, .env."""

from __future__ import annotations

import difflib
import os
import shutil
import stat
from pathlib import Path

import pytest

from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.scan import scan
from livekit_doctor.checks.fixes.dotenv import plan_env
from livekit_doctor.checks.fixes.run import plan_fixes, write

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
OFFICIAL = Knowledge(family="official", names={"LiveKitAPI": True, "RoomServiceClient": False, "VideoGrant": False,
                                               "VideoGrants": True, "AccessToken": True})
THIRD_PARTY = Knowledge(family="third-party", api_importable=False,
                        names={"RoomServiceClient": True, "VideoGrant": True, "LiveKitAPI": False})


def everything(rule: str) -> bool:
    return True


def fixed(tmp_path: Path, fixture: str, knowledge: Knowledge = OFFICIAL, wanted=everything):
    """The fixture copied, planned and written; (report, {file: text after})."""
    project = tmp_path / "p"
    shutil.copytree(FIXTURES / fixture, project)
    report, _ = plan_fixes(scan(project, knowledge), wanted)
    write(report)
    return report, {p.name: p.read_text() for p in project.iterdir() if p.suffix == ".py"}


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    diff = list(difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0))
    return ([d[1:] for d in diff if d.startswith("-") and not d.startswith("---")],
            [d[1:] for d in diff if d.startswith("+") and not d.startswith("+++")])


def assert_settled(tmp_path: Path, knowledge: Knowledge = OFFICIAL) -> None:
    """A second run changes nothing and the scan finds nothing in the result."""
    project = tmp_path / "p"
    assert scan(project, knowledge).findings == []
    again, _ = plan_fixes(scan(project, knowledge), everything)
    assert again.files == [] and again.guidance == []


def test_await_added_and_local_client_closed(tmp_path):
    report, files = fixed(tmp_path, "fix/unawaited_500")
    assert [(c.rules, c.line) for c in report.changes] == [(("LK302",), 13), (("LK305",), 12)]
    assert "    async with api.LiveKitAPI() as lkapi:\n" \
           "        room = await lkapi.room.create_room(api.CreateRoomRequest(name=f\"voice-{body['user_id']}\"))\n" \
           in files["main.py"]
    assert "aclose" not in files["main.py"]  # the async with closes it, on every path
    assert_settled(tmp_path)


def test_awaited_sync_calls_lose_their_await(tmp_path):
    report, files = fixed(tmp_path, "codescan/patterns/misuse")
    text = files["awaited_builder.py"]
    assert "    event = receiver.receive(body, auth)\n" in text
    assert "    token = api.AccessToken().with_identity(event.participant.identity)\n" in text
    assert {c.rules for c in report.changes if c.path == "awaited_builder.py"} == {("LK303",)}


def test_route_made_async_its_calls_awaited_and_the_import_time_client_lazy(tmp_path):
    report, files = fixed(tmp_path, "codescan/awaits_removed")
    text = files["main.py"]
    assert sorted(c.rules for c in report.changes) == [("LK304", "LK305"), ("LK306",)]
    assert "async def create_session(body: dict):\n" in text
    assert "    await lkapi().room.create_room(api.CreateRoomRequest(name=room_name))\n" in text
    assert "    rooms = await lkapi().room.list_rooms(api.ListRoomsRequest(names=[room_name]))\n" in text
    assert "app = FastAPI(lifespan=lifespan)\n" in text and "        await _lkapi.aclose()\n" in text
    assert "from contextlib import asynccontextmanager\n" in text
    assert_settled(tmp_path)


def test_room_service_client_becomes_livekit_api(tmp_path):
    report, files = fixed(tmp_path, "fix/room_service_in_handler")
    text = files["main.py"]
    assert "api.RoomServiceClient(" not in text
    assert "    # as the Node SDK's docs show it\n    async with api.LiveKitAPI(os.environ[\"LIVEKIT_URL\"]" in text
    assert "        await room_service.room.create_room(api.CreateRoomRequest(name=room_name, empty_timeout=600))\n" \
           in text
    assert [c.rules for c in report.changes] == [("LK301",)]
    assert_settled(tmp_path)


def test_seeds_module_level_room_service_client(tmp_path):
    _, files = fixed(tmp_path, "codescan/broken_original")
    text = files["main.py"]
    assert "from livekit.api import RoomServiceClient" not in text
    assert "def room_service() -> api.LiveKitAPI:\n" in text and "        _room_service = api.LiveKitAPI(os.environ" in text
    assert_settled(tmp_path)


def test_third_party_package_code_is_left_alone(tmp_path):
    """With the synchronous package in use, nothing is rewritten; the choice is explained at each place."""
    report, files = fixed(tmp_path, "codescan/third_party", THIRD_PARTY)
    assert report.files == [] and files["main.py"] == (FIXTURES / "codescan/third_party/main.py").read_text()
    assert [(g.rule, g.line) for g in report.guidance] == [("LK303", 10)]
    assert "pip install livekit-api" in report.guidance[0].advice and "by hand" in report.guidance[0].advice


def test_third_party_style_names_with_the_official_sdk_are_guidance(tmp_path):
    """`from livekit import AccessToken, RoomServiceClient, VideoGrant`: more than the client to change."""
    report, _ = fixed(tmp_path, "codescan/third_party")
    assert report.files == [] and {g.rule for g in report.guidance} == {"LK301"}


def test_layout_and_comments_are_kept(tmp_path):
    report, files = fixed(tmp_path, "fix/layout")
    before = (FIXTURES / "fix/layout/app.py").read_text()
    removed, added = changed_lines(before, files["app.py"])
    assert removed == ["    lk.room.create_room( api.CreateRoomRequest( name = name ) )  # keep this comment",
                       "    jwt = await api.AccessToken() \\"]
    assert added == ["    await lk.room.create_room( api.CreateRoomRequest( name = name ) )  # keep this comment",
                     "    jwt = api.AccessToken() \\"]
    assert [(g.rule, g.line) for g in report.guidance] == [("LK306", 17)]  # a plain def: a person's call


def test_access_token_object_gets_to_jwt(tmp_path):
    _, files = fixed(tmp_path, "fix/token_object")
    before = (FIXTURES / "fix/token_object/main.py").read_text()
    removed, added = changed_lines(before, files["main.py"])
    assert len(removed) == len(added) == 2 and all(a == r + ".to_jwt()" or a == r.replace(
        'room="r")),', 'room="r")).to_jwt(),') for r, a in zip(removed, added))
    assert "    return token.to_jwt()  # already a JWT: left alone\n" in files["main.py"]


def test_select_and_ignore(tmp_path):
    report, files = fixed(tmp_path, "fix/unawaited_500", wanted=lambda rule: rule == "LK305")
    assert report.files == [] and files["main.py"] == (FIXTURES / "fix/unawaited_500/main.py").read_text()
    # without the route made async, `lkapi()` would be created in FastAPI's worker thread: no lazy client either
    report, _ = fixed(tmp_path / "again", "codescan/awaits_removed", wanted=lambda rule: rule != "LK306")
    assert report.files == [] and sorted(g.rule for g in report.guidance) == ["LK304", "LK305"]
    assert "read outside async code" in report.guidance[0].advice


def test_leaked_secret_is_guidance_never_rewritten(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    secret = "s3cr3t-" + os.urandom(12).hex()
    source = f'from livekit import api\n\n\nasync def token():\n    return api.AccessToken("APIabcdef12", "{secret}")' \
             '.with_identity("a").to_jwt()\n'
    (project / "app.py").write_text(source)
    report, secrets = plan_fixes(scan(project, OFFICIAL), everything)
    assert report.files == [] and [(g.rule, g.line, g.col) for g in report.guidance] == [("LK308", 5, 28), ("LK308", 5, 43)]
    assert "rotate" in report.guidance[1].advice and secret not in report.guidance[1].message


DAMAGED = ('# LiveKit\nLIVEKIT_URL="ws://localhost:7880 "\nexport LIVEKIT_API_KEY=\'"APIkey123"\' # from the console\n'
           'LIVEKIT_API_SECRET="{secret}\n"\nOTHER=" keep me "\n')


def test_env_values_cleaned_the_rest_kept(tmp_path):
    secret = "x" * 40
    plan = plan_env(".env", DAMAGED.format(secret=secret), everything)
    assert plan.after == ('# LiveKit\nLIVEKIT_URL="ws://localhost:7880"\nexport LIVEKIT_API_KEY=\'APIkey123\' '
                          f'# from the console\nLIVEKIT_API_SECRET="{secret}"\nOTHER=" keep me "\n')
    assert [(c.rules, c.line) for c in plan.changes] == [(("LK202",), 2), (("LK203",), 3), (("LK203",), 4)]
    assert secret in plan.secrets and plan_env(".env", plan.after, everything).changes == []


def test_env_written_with_backup_and_mode(tmp_path):
    project = tmp_path / "p"
    project.mkdir()
    env = project / ".env"
    env.write_text(DAMAGED.format(secret="y" * 40))
    env.chmod(0o600)
    report, _ = plan_fixes(scan(project, OFFICIAL), lambda rule: rule == "LK203")
    write(report)
    assert (project / ".env.bak").read_text() == DAMAGED.format(secret="y" * 40)
    assert 'LIVEKIT_URL="ws://localhost:7880 "' in env.read_text()  # LK202 not selected
    assert f'LIVEKIT_API_SECRET="{"y" * 40}"\n' in env.read_text()
    assert stat.S_IMODE(env.stat().st_mode) == 0o600


@pytest.mark.parametrize("fixture", ["codescan/correct_lazy", "fix/layout"])
def test_second_run_is_a_no_op(tmp_path, fixture):
    fixed(tmp_path, fixture)
    project = tmp_path / "p"
    before = {p: p.read_bytes() for p in project.iterdir()}
    again, _ = plan_fixes(scan(project, OFFICIAL), everything)
    write(again)
    assert again.files == [] and {p: p.read_bytes() for p in project.iterdir()} == before
