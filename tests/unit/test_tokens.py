import pytest

from livekit_doctor.checks.plumbing.server.server_api import classify
from livekit_doctor.checks.plumbing.config.target import parse_url
from livekit_doctor.checks.tokens import skew_seconds
from livekit_doctor.checks.plumbing.server.tokens import MalformedToken, admin_grants, inspect_token, join_grants, mint, relative

KEY, SECRET = "APIabcdef123", "s" * 40
NOW = 1_800_000_000.0


def test_minted_token_verifies_and_reads_back():
    token = mint(KEY, SECRET, identity="alice", video=join_grants("room-1"), now=NOW, ttl=3600)
    info = inspect_token(token, api_key=KEY, api_secret=SECRET, now=NOW + 10)
    assert (info.signature, info.problems) == ("valid", [])
    assert info.claims == {"iss": KEY, "sub": "alice", "nbf": int(NOW), "exp": int(NOW) + 3600, "video": join_grants("room-1")}


@pytest.mark.parametrize("kwargs,now,problem", [
    ({}, NOW + 3600 + 61, "expired 61 s ago"),
    ({"now": NOW + 600}, NOW, "not valid yet: nbf is 10 min in the future (clock skew?)"),
    ({"video": {}}, NOW, "no grants: it cannot join a room nor call the server API"),
    ({"video": {"room": "r", "canPublish": True}}, NOW,
     "no roomJoin: it cannot join room 'r' nor call the server API (the server answers 'permissions denied')"),
    ({"video": {"roomJoin": False, "room": "r"}}, NOW,
     "roomJoin is false: it cannot join a room (the server answers 'permissions denied')"),
    ({"video": {"roomJoin": True}}, NOW, "roomJoin without a room (the server answers 'no room name')"),
    ({"identity": ""}, NOW, "roomJoin without an identity (sub): the server answers 'identity cannot be empty'"),
])
def test_token_problems(kwargs, now, problem):
    args = {"identity": "alice", "video": join_grants("r"), "now": NOW, "ttl": 3600} | kwargs
    info = inspect_token(mint(KEY, SECRET, **args), api_key=KEY, api_secret=SECRET, now=now)
    assert info.problems == [problem]


def test_wrong_secret_and_other_key():
    token = mint("APIother9999", "t" * 40, identity="a", video=admin_grants("r"), now=NOW)
    info = inspect_token(token, api_key=KEY, api_secret=SECRET, now=NOW)
    assert info.signature == "invalid"
    assert info.problems == ["issued for API key API…99, not the configured API…23",
                             "signature does not match the configured API secret"]
    assert inspect_token(token, now=NOW).signature == "unchecked"


@pytest.mark.parametrize("text", ["", "abc", "a.b.c", "eyJhbGciOiJIUzI1NiJ9.notbase64!.x"])
def test_malformed_tokens(text):
    with pytest.raises(MalformedToken):
        inspect_token(text)


def test_relative():
    assert [relative(s) for s in (5, 119, 3600 * 6 - 60, 90000)] == ["5 s", "119 s", "5 h 59 min", "1 d 1 h"]


@pytest.mark.parametrize("status,body,cause", [
    (401, "invalid API key: APIx", "the server does not know this API key"),
    (401, "invalid token: eyJ..., error: token signature is invalid: signature is invalid", "wrong API secret: the server's signature check failed"),
    (401, "invalid token: x, error: go-jose/go-jose: error in cryptographic primitive", "wrong API secret: the server's signature check failed"),
    (401, "invalid token: x, error: token has invalid claims: token is expired", "the token is expired"),
    (401, "invalid token: x, error: token is expired (exp)", "the token is expired"),
    (401, "invalid token: x, error: token has invalid claims: token is not valid yet", "the token is not valid yet (nbf in the server's future): clock skew"),
    (401, "no permissions to access the room", "the token has no video grant"),
    (401, '{"code":"unauthenticated","msg":"permissions denied"}', "permission denied: the token lacks the grant this call needs"),
    (404, "requested room does not exist", "the room does not exist and the server does not auto-create rooms"),
    (502, "<html>Bad Gateway</html>", "unexpected answer HTTP 502"),
])
def test_classify_both_server_generations(status, body, cause):
    assert classify(status, body).cause == cause


def test_http_base_and_skew():
    assert parse_url("wss://u:p@host.example:443/path?x=1").http_base == "https://host.example:443"
    assert parse_url("ws://127.0.0.1:7880").http_base == "http://127.0.0.1:7880"
    assert skew_seconds("Tue, 24 Nov 2026 23:00:00 GMT", 1795562390.0, 1795562410.0) == -1200.0
