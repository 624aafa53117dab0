"""What people paste into `token`, the grant catalogue, and the verdicts as the server and the SDKs give them."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from livekit_doctor.checks.plumbing.server.grants import capabilities, clip, participant_lines, service_calls
from livekit_doctor.checks.plumbing.server.server_api import judge_twirp, judge_validate
from livekit_doctor.checks.plumbing.server.tokens import MalformedToken, extract_token, inspect_token, join_grants, mint

KEY, SECRET = "APIabcdef123", "s" * 40
NOW = 1_800_000_000.0
TOKEN = mint(KEY, SECRET, identity="alice", video=join_grants("r"), now=NOW)
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("pasted", [
    TOKEN, f"  {TOKEN}\n", f"Bearer {TOKEN}", f"Authorization: Bearer {TOKEN}", f'"{TOKEN}"', f"'{TOKEN}'",
    f"wss://lk.example.com/rtc?access_token={TOKEN}&auto_subscribe=1", f"https://meet.example.com/#token={TOKEN}",
    f"https://app.example.com/join?room=r&token={TOKEN}", json.dumps({"token": TOKEN, "url": "wss://x"}),
    json.dumps({"participantToken": TOKEN}), f'"Bearer {TOKEN}"',
])
def test_pasted_forms(pasted):
    assert extract_token(pasted) == TOKEN


@pytest.mark.parametrize("pasted,message", [
    ('{"url": "wss://x"}', "the JSON has no token field (looked for token, accessToken, access_token, "
                           "participantToken, participant_token, jwt)"),
    ("{not json", "the input looks like JSON but does not parse (Expecting property name enclosed in double quotes)"),
    ("https://x.example.com/?room=r", "the URL carries no access_token or token parameter"),
])
def test_pasted_garbage(pasted, message):
    with pytest.raises(MalformedToken) as exc:
        extract_token(pasted)
    assert str(exc.value) == message


def test_every_claim_shown_with_its_value():
    claims = {"name": "Alice", "kind": "agent", "metadata": "m" * 100, "attributes": {"lang": "fr"},
              "roomPreset": "p1", "sha256": "ab", "roomConfig": {"agents": [{"agentName": "helper"}]}, "x-custom": 1}
    assert participant_lines(claims) == [
        "name = Alice", "kind = agent", "metadata = " + "m" * 80 + "… (100 chars)", "attributes.lang = fr",
        'roomConfig = {"agents":[{"agentName":"helper"}]}', "roomPreset = p1", "sha256 = ab",
        "x-custom = 1 (not a LiveKit claim)"]
    assert clip("a\nb   c") == "a b c"


def test_capabilities_and_the_calls_that_judge_them():
    claims = {"sub": "ops", "video": {"roomList": True, "roomCreate": True, "roomAdmin": True, "room": "r",
                                      "roomRecord": True, "ingressAdmin": True},
              "sip": {"admin": True}, "inference": {"perform": True}}
    assert [c.label for c in service_calls(claims, "missing")] == [
        "ListRooms", "DeleteRoom of a missing room", "ListParticipants", "Egress ListEgress", "Ingress ListIngress",
        "SIP ListSIPInboundTrunk"]
    assert capabilities({"sub": "a", "video": {"roomJoin": True, "room": "r", "canPublish": False},
                         "roomConfig": {"agents": [{"agentName": "helper", "metadata": "hi"}]}}) == [
        "join room 'r' as 'a': subscribe", "dispatch agents when its join creates the room: helper (metadata hi)"]
    assert capabilities(claims)[-1] == "LiveKit Cloud services: inference.perform"


@pytest.mark.parametrize("status,body,accepted,text", [
    (200, "success", True, "accepted"),
    (404, "requested room does not exist", True, "but the room does not exist and the server does not auto-create rooms"),
    (401, "permissions denied", False, "permission denied: the token lacks the grant this call needs"),
    (401, "invalid token: x, error: token signature is invalid: signing method HS512 is invalid", False,
     "the server accepts only HS256 tokens: this one is signed with another algorithm"),
])
def test_judge_validate(status, body, accepted, text):
    verdict = judge_validate(status, body)
    assert (verdict.accepted, verdict.text) == (accepted, text)


@pytest.mark.parametrize("status,body,accepted,text", [
    (500, '{"code":"internal","msg":"twirp error unknown: sip not connected (redis required)"}', True,
     "auth passed; the service itself needs Redis: 'sip not connected (redis required)'"),
    (401, '{"code":"unauthenticated","msg":"permissions denied"}', False,
     "permission denied: the token lacks the grant this call needs"),
    (404, '{"code":"bad_route","msg":"no handler"}', False, "unexpected answer HTTP 404"),
    (502, "<html>", False, "unexpected answer HTTP 502"),
])
def test_judge_twirp(status, body, accepted, text):
    verdict = judge_twirp(status, body)
    assert (verdict.accepted, verdict.text) == (accepted, text)


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_hs512_with_the_right_secret_is_an_algorithm_problem_not_a_secret_problem():
    token = jwt.encode({"iss": KEY, "sub": "a", "nbf": int(NOW), "exp": int(NOW) + 60, "video": join_grants("r")},
                       SECRET, algorithm="HS512")
    info = inspect_token(token, api_key=KEY, api_secret=SECRET, now=NOW)
    assert (info.signature, info.problems) == (
        "valid", ["algorithm HS512: the server accepts only HS256 (it answers 'signing method HS512 is invalid')"])


def test_no_exp_is_a_warning_naming_the_sdk_verifiers():
    token = jwt.encode({"iss": KEY, "sub": "a", "nbf": int(NOW), "video": join_grants("r")}, SECRET)
    info = inspect_token(token, api_key=KEY, api_secret=SECRET, now=NOW)
    assert info.problems == []
    assert info.warnings == ["no exp: the server accepts it and it never expires, but the SDKs' TokenVerifier "
                             "(livekit-api, livekit-server-sdk) refuse a token without exp"]


def test_json_output_matches_the_schema_and_hides_the_signature(tmp_path):
    import jsonschema
    from referencing import Registry, Resource

    from livekit_doctor.checks.commands.token import token as command

    schemas = {name: json.loads((ROOT / "docs" / "schema" / name).read_text()) for name in
               ("run.schema.json", "token.schema.json")}
    registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas.values())
    metadata_token = jwt.encode({"iss": KEY, "sub": "a", "nbf": int(NOW), "exp": int(NOW) + 60, "video": {},
                                 "metadata": f"secret={SECRET} " + "x" * 300}, SECRET)
    env = {"HOME": str(tmp_path), "LIVEKIT_URL": None, "LIVEKIT_API_KEY": KEY, "LIVEKIT_API_SECRET": SECRET}
    result = CliRunner().invoke(command, ["--format", "json", "--project", str(tmp_path), f"Bearer {metadata_token}"],
                                env=env)
    doc = json.loads(result.output)
    jsonschema.Draft202012Validator(schemas["token.schema.json"], registry=registry).validate(doc)
    assert (result.exit_code, doc["exit_code"], doc["signature"]) == (1, 1, "valid")
    assert [r["check_id"] for r in doc["results"]] == ["TK101", "TK102"]
    assert doc["claims"]["metadata"].startswith("secret=[secret redacted] xxx")
    assert doc["claims"]["metadata"].endswith("… (348 chars)")
    assert SECRET not in result.output and metadata_token.rsplit(".", 1)[1] not in result.output


def test_garbage_is_one_line_and_exit_2(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "livekit_doctor", "token", "--no-server", "-"], input="hello world\n",
                          capture_output=True, text=True, cwd=tmp_path, env={"HOME": str(tmp_path), "PATH": ""})
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == "livekit-doctor: error: the token is malformed (not a JWT: 1 part separated by '.', not 3 (header.payload.signature))\n"
