"""LK406's verdict from a join's candidates (set in the run's memo, as the shared probe would)."""

from livekit_doctor.checks.plumbing.server.signal_join import Join, parse_candidate
from livekit_doctor.checks.signaling import transports_check
from livekit_doctor.context import Context
from livekit_doctor.result import Status


def verdict(url: str, candidates: list[str], ice: list[str]):
    ctx = Context(options={}, env={"LIVEKIT_URL": url, "LIVEKIT_API_KEY": "APIkey1234", "LIVEKIT_API_SECRET": "s" * 40})
    ctx._memo["net.signal"] = Join(ok=True, ice_servers=ice, candidates=[parse_candidate(c) for c in candidates])
    return transports_check.func(ctx)


UDP_PRIVATE = "candidate:1 1 udp 2130706431 10.0.0.5 50000 typ host"
TCP_PRIVATE = "candidate:2 1 tcp 1671430143 10.0.0.5 7881 typ host tcptype passive"
UDP_PUBLIC = "candidate:3 1 udp 2130706431 34.117.59.81 50000 typ host"


def test_private_node_ip_behind_a_public_url_fails():
    r = asyncio_run(verdict("ws://34.117.59.82:7880", [UDP_PRIVATE, TCP_PRIVATE], ["stun:stun.l.google.com:19302"]))
    assert r.status is Status.FAIL
    assert r.summary == ("the server advertises only private addresses (10.0.0.5) while the URL is public: clients "
                         "elsewhere will connect signalling but never media")
    assert "UDP 50000 and TCP 7881" in r.fix


def test_public_candidates_without_turn_warn():
    r = asyncio_run(verdict("ws://voice.example.com:7880", [UDP_PUBLIC], []))
    assert (r.status, r.summary) == (Status.WARN, "UDP 34.117.59.81:50000; no TURN: clients behind strict firewalls will fail")


def test_private_url_with_private_candidates_passes():
    r = asyncio_run(verdict("ws://10.0.0.5:7880", [UDP_PRIVATE, TCP_PRIVATE], []))
    assert (r.status, r.summary) == (Status.PASS, "UDP 10.0.0.5:50000; ICE/TCP 10.0.0.5:7881")


def test_no_candidates_no_turn_fails():
    r = asyncio_run(verdict("ws://127.0.0.1:7880", [], []))
    assert r.status is Status.FAIL and r.summary.startswith("the server offered no ICE candidates and no TURN")


def asyncio_run(coro):
    import asyncio

    return asyncio.run(coro)
