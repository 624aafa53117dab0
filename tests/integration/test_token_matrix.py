"""`token` on a matrix minted at test time by the real Node livekit-server-sdk, by livekit-api and by hand
(PyJWT): every grant family, TTLs, algorithms, no exp, no identity. Each token is read with no secret, the
right secret and a wrong one; the decoded claims and the verdicts are the real server's answers (probed
against v1.13.5: admin-only tokens pass ListRooms, SIP/egress/ingress pass auth and then need Redis)."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from pathlib import Path

import jwt
import pytest
from click.testing import CliRunner

from conftest import IN_CI, ROOT

pytestmark = [pytest.mark.integration,  # HS384/HS512 minted by hand with the server's 48-character secret
              pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")]

@pytest.fixture(scope="session")
def node_sdk() -> Path:
    """The pinned Node livekit-server-sdk (scripts/install-node); in CI its absence fails the run."""
    proc = subprocess.run([str(ROOT / "scripts" / "install-node")], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        message = f"Node livekit-server-sdk unavailable: {proc.stderr.strip()}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message + " (set CI=true to make this a failure)")
    return Path(proc.stdout.strip().splitlines()[-1]) / "node_modules" / "livekit-server-sdk" / "dist" / "index.js"


MINT_JS = """
import { readFileSync } from "node:fs";
const { AccessToken, RoomConfiguration, RoomAgentDispatch } = await import(process.argv[1]);
const [key, secret, specs] = JSON.parse(readFileSync(0, "utf8"));
const out = {};
for (const [name, s] of Object.entries(specs)) {
  const at = new AccessToken(key, secret, { identity: s.identity, ttl: s.ttl, name: s.name,
                                            metadata: s.metadata, attributes: s.attributes });
  if (s.video) at.addGrant(s.video);
  if (s.sip) at.addSIPGrant(s.sip);
  if (s.inference) at.addInferenceGrant(s.inference);
  if (s.observability) at.addObservabilityGrant(s.observability);
  if (s.kind) at.kind = s.kind;
  if (s.agents) at.roomConfig = new RoomConfiguration({ agents: s.agents.map((a) => new RoomAgentDispatch(a)) });
  out[name] = await at.toJwt();
}
process.stdout.write(JSON.stringify(out));
"""

JOIN = {"roomJoin": True, "room": "r"}
NODE = {
    "n-join": {"identity": "alice", "name": "Alice", "metadata": '{"plan":"pro"}', "attributes": {"lang": "fr"},
               "video": JOIN | {"canPublishSources": [1, 2]}},  # TrackSource.CAMERA, MICROPHONE
    "n-subscribe-only": {"identity": "bob", "video": JOIN | {"canPublish": False, "canPublishData": False}},
    "n-agents": {"identity": "carol", "video": JOIN, "agents": [{"agentName": "helper", "metadata": "m"}]},
    "n-kind": {"identity": "bot", "video": JOIN, "kind": "agent"},
    "n-admin": {"identity": "ops", "video": {"roomList": True, "roomCreate": True}},
    "n-room-admin": {"identity": "ops", "video": {"roomAdmin": True, "room": "r"}},
    "n-egress": {"identity": "rec", "video": {"roomRecord": True}},
    "n-ingress": {"identity": "ing", "video": {"ingressAdmin": True}},
    "n-sip": {"identity": "tel", "sip": {"admin": True}},
    "n-sip-call": {"identity": "tel", "sip": {"call": True}},
    "n-cloud": {"identity": "x", "inference": {"perform": True}, "observability": {"write": True}},
    "n-short": {"identity": "alice", "video": JOIN, "ttl": "90s"},  # short, yet alive through a slow run
    "n-long": {"identity": "alice", "video": JOIN, "ttl": "30d"},
    "n-expired": {"identity": "alice", "video": JOIN, "ttl": "-2h"},
}


def mint_node(node_sdk: Path, key: str, secret: str) -> dict[str, str]:
    proc = subprocess.run(["node", "--input-type=module", "-e", MINT_JS, str(node_sdk)], capture_output=True,
                          text=True, timeout=60, input=json.dumps([key, secret, NODE]))
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def mint_python(key: str, secret: str) -> dict[str, str]:
    from livekit import api

    def token() -> "api.AccessToken":
        return api.AccessToken(key, secret)

    return {
        "p-join": token().with_identity("dave").with_metadata("x" * 500)
        .with_grants(api.VideoGrants(room_join=True, room="r")).to_jwt(),
        "p-list": token().with_grants(api.VideoGrants(room_list=True)).to_jwt(),
        "p-sip": token().with_identity("tel").with_sip_grants(api.SIPGrants(admin=True)).to_jwt(),
        "p-room-config": token().with_identity("erin").with_grants(api.VideoGrants(room_join=True, room="r"))
        .with_room_config(api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name="py-agent")]))
        .with_room_preset("preset-1").with_sha256("ab" * 32).to_jwt(),
    }


def mint_hand(key: str, secret: str) -> dict[str, str]:
    now = int(time.time())

    def enc(alg: str = "HS256", key_secret: str = secret, **claims: object) -> str:
        base = {"iss": key, "sub": "frank", "nbf": now, "exp": now + 600, "video": JOIN}
        return jwt.encode({k: v for k, v in (base | claims).items() if v is not None}, key_secret, algorithm=alg)

    return {"h-hs384": enc("HS384"), "h-hs512": enc("HS512"), "h-no-exp": enc(exp=None),
            "h-not-yet": enc(nbf=now + 3600), "h-nbf-30s": enc(nbf=now + 30), "h-no-identity": enc(sub=None),
            "h-join-false": enc(video={"roomJoin": False, "room": "r"}), "h-no-grants": enc(video=None),
            "h-other-secret": enc(key_secret=secrets.token_urlsafe(36))}


ACCEPTED = "accepted by {url} (/rtc/validate)"
REDIS = "accepted by {url} ({call}): auth passed; the service itself needs Redis: '{what} not connected (redis required)'"
# token -> (server results {id: (status, summary)}, TK101 status, TK101 summary start or None, capability start)
EXPECTED = {
    "n-join": ({"TK201": ("pass", ACCEPTED)}, "pass", None,
               "join room 'r' as 'alice': publish (camera, microphone), subscribe, send data"),
    "n-subscribe-only": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r' as 'bob': subscribe"),
    "n-agents": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r' as 'carol'"),
    "n-kind": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r' as 'bot'"),
    "n-admin": ({"TK202": ("pass", "accepted by {url} (ListRooms)"),
                 "TK203": ("pass", "accepted by {url} (DeleteRoom of a missing room): auth passed; the service "
                                   "answered not_found: 'requested room does not exist'")},
                "pass", None, "list rooms (ListRooms)"),
    "n-room-admin": ({"TK204": ("pass", "accepted by {url} (ListParticipants)")}, "pass", None, "moderate room 'r'"),
    "n-egress": ({"TK205": ("pass", REDIS.replace("{call}", "Egress ListEgress").replace("{what}", "egress"))},
                 "pass", None, "use egress"),
    "n-ingress": ({"TK206": ("pass", REDIS.replace("{call}", "Ingress ListIngress").replace("{what}", "ingress"))},
                  "pass", None, "manage ingress"),
    "n-sip": ({"TK207": ("pass", REDIS.replace("{call}", "SIP ListSIPInboundTrunk").replace("{what}", "sip"))},
              "pass", None, "manage SIP trunks"),
    "n-sip-call": ({"TK209": ("skip", "sip.call: not asked (its only call, CreateSIPParticipant, places a phone "
                                      "call)")}, "pass", None, "place SIP calls"),
    "n-cloud": ({"TK209": ("skip", "inference, observability: not asked (LiveKit Cloud services; a self-hosted "
                                   "server has none)")}, "pass", None,
                "LiveKit Cloud services: inference.perform, observability.write"),
    "n-short": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r'"),
    "n-long": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r'"),
    "n-expired": ({"TK201": ("fail", "rejected by {url} (HTTP 401): the token is expired (/rtc/validate)")},
                  "fail", "expired 2 h ago", "join room 'r'"),
    "p-join": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r' as 'dave': publish, subscribe, send data"),
    "p-list": ({"TK202": ("pass", "accepted by {url} (ListRooms)")}, "pass", None, "list rooms (ListRooms)"),
    "p-sip": ({"TK207": ("pass", REDIS.replace("{call}", "SIP ListSIPInboundTrunk").replace("{what}", "sip"))},
              "pass", None, "manage SIP trunks"),
    "p-room-config": ({"TK201": ("pass", ACCEPTED)}, "pass", None, "join room 'r' as 'erin'"),
    "h-hs384": ({"TK201": ("fail", "rejected by {url} (HTTP 401): the server accepts only HS256 tokens")}, "fail",
                "algorithm HS384: the server accepts only HS256 (it answers 'signing method HS384 is invalid')",
                "join room 'r'"),
    "h-hs512": ({"TK201": ("fail", "rejected by {url} (HTTP 401): the server accepts only HS256 tokens")}, "fail",
                "algorithm HS512: the server accepts only HS256 (it answers 'signing method HS512 is invalid')",
                "join room 'r'"),
    "h-no-exp": ({"TK201": ("pass", ACCEPTED)}, "warn", "no exp: the server accepts it and it never expires, but "
                 "the SDKs' TokenVerifier (livekit-api, livekit-server-sdk) refuse a token without exp", "join room"),
    "h-not-yet": ({"TK201": ("fail", "rejected by {url} (HTTP 401): the token is not valid yet (nbf in the server's "
                             "future): clock skew")}, "fail", "not valid yet: nbf is 59 min in the future", "join"),
    "h-nbf-30s": ({"TK201": ("pass", ACCEPTED)}, "warn", "nbf is ", "join room 'r'"),
    "h-no-identity": ({"TK201": ("fail", "rejected by {url} (HTTP 400): the token has no identity (sub)")}, "fail",
                      "roomJoin without an identity (sub): the server answers 'identity cannot be empty'",
                      "join room 'r' as '(no identity)'"),
    "h-join-false": ({"TK201": ("fail", "rejected by {url} (HTTP 401): permission denied: the token lacks the grant")},
                     "fail", "roomJoin is false: it cannot join a room (the server answers 'permissions denied')",
                     None),
    "h-no-grants": ({"TK201": ("fail", "rejected by {url} (HTTP 401): the token has no video grant")}, "fail",
                    "no grants: it cannot join a room nor call the server API", None),
    "h-other-secret": ({"TK201": ("fail", "rejected by {url} (HTTP 401): wrong API secret: the server's signature "
                                  "check failed")}, "pass", None, "join room 'r'"),
}


@pytest.fixture(scope="module")
def matrix(livekit_server, node_sdk) -> dict[str, str]:
    key, secret = livekit_server.api_key, livekit_server.api_secret
    tokens = mint_node(node_sdk, key, secret) | mint_python(key, secret) | mint_hand(key, secret)
    assert set(tokens) == set(EXPECTED)
    return tokens


def run_token(token: str, env: dict[str, str], tmp_path: Path) -> tuple[int, dict, str]:
    from livekit_doctor.checks.commands.token import token as command

    full = {"HOME": str(tmp_path), "LIVEKIT_URL": None, "LIVEKIT_API_KEY": None, "LIVEKIT_API_SECRET": None} | env
    result = CliRunner().invoke(command, ["--format", "json", "--project", str(tmp_path), token], env=full)
    return result.exit_code, json.loads(result.output), result.output


@pytest.mark.parametrize("mode", ["no-secret", "right-secret", "wrong-secret"])
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_matrix(matrix, livekit_server, tmp_path, name, mode):
    server_results, decode_status, decode_summary, capability = EXPECTED[name]
    token = matrix[name]
    wrong = secrets.token_urlsafe(36)
    env = {"LIVEKIT_URL": livekit_server.url, "LIVEKIT_API_KEY": livekit_server.api_key}
    env |= {"right-secret": {"LIVEKIT_API_SECRET": livekit_server.api_secret},
            "wrong-secret": {"LIVEKIT_API_SECRET": wrong}}.get(mode, {})
    code, doc, output = run_token(token, env, tmp_path)

    signature = {"no-secret": "unchecked", "right-secret": "valid", "wrong-secret": "invalid"}[mode]
    if name == "h-other-secret" and mode == "right-secret":
        signature = "invalid"
    assert doc["signature"] == signature
    by_id = {r["check_id"]: r for r in doc["results"]}
    assert by_id["TK102"]["status"] == {"unchecked": "skip", "valid": "pass", "invalid": "fail"}[signature]
    server = {(r["check_id"]): (r["status"], r["summary"]) for r in doc["results"] if r["check_id"] >= "TK201"}
    assert set(server) == set(server_results)
    for check_id, (status, summary) in server_results.items():
        assert server[check_id][0] == status
        assert server[check_id][1].startswith(summary.format(url=livekit_server.url)), server[check_id][1]
    decoded = by_id["TK101"]
    assert decoded["status"] == ("fail" if signature == "invalid" else decode_status), decoded["summary"]
    if decode_summary:
        assert decode_summary in decoded["summary"] + decoded["details"]
    if capability:
        assert doc["capabilities"][0].startswith(capability), doc["capabilities"]
    else:
        assert doc["capabilities"] == []
    failing = any(r["status"] in ("fail", "error") for r in doc["results"])
    assert (code, doc["exit_code"]) == (int(failing), int(failing))
    assert token.rsplit(".", 1)[1] not in output and livekit_server.api_secret not in output and wrong not in output


def test_decoded_values(matrix, livekit_server, tmp_path):
    """Metadata, attributes, kind, roomConfig agents, roomPreset, sha256: shown with their values."""
    env = {"LIVEKIT_URL": livekit_server.url}
    claims = {name: run_token(matrix[name], env, tmp_path)[1]["claims"]
              for name in ("n-join", "n-agents", "n-kind", "p-join", "p-room-config", "n-sip", "n-cloud")}
    assert (claims["n-join"]["name"], claims["n-join"]["metadata"], claims["n-join"]["attributes"]) == (
        "Alice", '{"plan":"pro"}', {"lang": "fr"})
    assert claims["n-join"]["video"] == JOIN | {"canPublishSources": ["camera", "microphone"]}
    assert claims["n-kind"]["kind"] == "agent"
    assert claims["p-join"]["metadata"] == "x" * 200 + "… (500 chars)"
    assert claims["p-room-config"]["roomPreset"] == "preset-1" and claims["p-room-config"]["sha256"] == "ab" * 32
    assert '"agentName":"py-agent"' in claims["p-room-config"]["roomConfig"]
    assert '"agentName":"helper"' in claims["n-agents"]["roomConfig"]
    assert (claims["n-sip"]["sip"], claims["n-cloud"]["inference"], claims["n-cloud"]["observability"]) == (
        {"admin": True}, {"perform": True}, {"write": True})
