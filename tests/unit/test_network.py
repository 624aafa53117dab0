"""LK701-LK705's pure parts: TURN URLs, the selected ICE path's names, the path verdict (LK703) from
the results it reads, the no-TURN / no-TCP verdicts from a join (set in the run's memo), and the
reconnect verdict (LK704) from the server's answers to a resume and a rejoin."""

import asyncio
from dataclasses import asdict

import pytest

from livekit_doctor.checks.network import path_check, reconnect_verdict, relay_check, tcp_check
from livekit_doctor.checks.plumbing.network.ice_path import Path
from livekit_doctor.checks.plumbing.server.signal_join import Join, parse_candidate
from livekit_doctor.checks.plumbing.server.signal_resume import Answer, signal_url
from livekit_doctor.checks.plumbing.network.turn_probe import parse_turn_url
from livekit_doctor.context import Context
from livekit_doctor.result import Result, Status

ENV = {"LIVEKIT_API_KEY": "APIkey1234", "LIVEKIT_API_SECRET": "s" * 40}


def test_turn_urls_as_the_server_offers_them():
    udp = parse_turn_url("turn:10.0.0.5:3478?transport=udp")
    assert (udp.host, udp.port, udp.transport, udp.secure, udp.label) == ("10.0.0.5", 3478, "udp", False, "TURN/UDP")
    tls = parse_turn_url("turns:turn.example.com:443?transport=tcp")
    assert (tls.host, tls.port, tls.transport, tls.secure, tls.label) == ("turn.example.com", 443, "tcp", True,
                                                                          "TURN/TLS")
    v6 = parse_turn_url("turn:[fd00::2]:3478?transport=udp")
    assert (v6.host, v6.port) == ("fd00::2", 3478)
    assert parse_turn_url("turns:turn.example.com").port == 5349
    assert parse_turn_url("stun:stun.l.google.com:19302") is None


@pytest.mark.parametrize("path, kind, text", [
    (Path("host", "udp", "10.0.0.5:7882", "host"), "udp", "UDP to 10.0.0.5:7882 (host candidate)"),
    (Path("prflx", "tcp", "10.0.0.5:7881", "host"), "tcp", "TCP to 10.0.0.5:7881 (host candidate)"),
    (Path("relay", "udp", "10.0.0.5:7882", "host", "tls", "turns:t.example.com:443?transport=tcp"), "turn/tls",
     "UDP to 10.0.0.5:7882 (host candidate) through TURN/TLS turns:t.example.com:443?transport=tcp"),
])
def test_path_names(path, kind, text):
    assert (path.kind, path.describe()) == (kind, text)


def judge_path(lk501: dict, **others: Result) -> Result:
    ctx = Context(options={}, env={"LIVEKIT_URL": "ws://10.0.0.5:7880", **ENV})
    ctx.results["LK501"] = Result(Status.PASS, "", facts=lk501)
    ctx.results["LK406"] = Result(Status.PASS, "", facts={"udp": ["10.0.0.5:7882"], "tcp": ["10.0.0.5:7881"]})
    ctx.results.update(others)
    return path_check.func(ctx)


def test_udp_direct_passes_and_lists_the_fallbacks():
    r = judge_path({"path": "udp", "transport": "UDP to 10.0.0.5:7882 (host candidate)", "media_connected_ms": 98.0},
                   LK702=Result(Status.PASS, "", facts={"tcp_switch_ms": 170.0}),
                   LK701=Result(Status.SKIP, "no TURN offered", facts={}))
    assert r.status is Status.PASS
    assert r.summary == ("UDP direct: UDP to 10.0.0.5:7882 (host candidate), media in 98 ms; fallbacks: ICE/TCP works "
                         "(170 ms), TURN not offered")


def test_media_only_over_tcp_warns_naming_the_udp_port():
    r = judge_path({"path": "tcp", "transport": "TCP to 10.0.0.5:7881 (host candidate)"})
    assert r.status is Status.WARN
    assert r.summary.startswith("media only works over the ICE/TCP fallback (TCP to 10.0.0.5:7881 (host candidate)): "
                                "UDP 7882 to the server is blocked")
    assert r.fix.startswith("Open UDP 7882")


def test_media_only_through_turn_warns_naming_both_ports():
    r = judge_path({"path": "turn/udp", "transport": "UDP to 10.0.0.5:7882 (host candidate) through TURN/UDP"})
    assert r.status is Status.WARN and "only works through TURN" in r.summary
    assert r.fix.startswith("Open UDP 7882 and TCP 7881")


def joined(url: str, candidates: list[str], turn: list[tuple[list[str], str, str]] = ()) -> Context:
    ctx = Context(options={}, env={"LIVEKIT_URL": url, **ENV})
    ctx._memo["net.signal"] = Join(ok=True, candidates=[parse_candidate(c) for c in candidates],
                                   turn_credentials=list(turn))
    return ctx


UDP = "candidate:1 1 udp 2130706431 127.0.0.1 7882 typ host"


def test_no_turn_offered_is_a_skip_not_a_failure():
    """Judged from the join alone: the rtc SDK is not imported (nor needed) to say so."""
    r = asyncio.run(relay_check.func(joined("ws://127.0.0.1:7880", [UDP])))
    assert r.status is Status.SKIP and r.summary.startswith("no TURN offered")


def test_no_ice_tcp_offered_is_a_skip():
    r = asyncio.run(tcp_check.func(joined("ws://127.0.0.1:7880", [UDP])))
    assert r.status is Status.SKIP and r.summary.startswith("no ICE/TCP offered")


REJOINED = Answer("join", 9.0, sid="PA_new", node="ND_1")


def reconnect(resume: Answer, full: Answer = REJOINED) -> Result:
    return reconnect_verdict({"sid": "PA_old", "resume": asdict(resume), "full_reconnect": asdict(full)})


def test_resume_url_carries_what_the_sdks_send():
    url = signal_url("wss://lk.example.com", "TOKEN", "PA_old")
    assert url.startswith("wss://lk.example.com/rtc?access_token=TOKEN&protocol=")
    assert url.endswith("&reconnect=1&sid=PA_old&reconnect_reason=1")
    assert "reconnect" not in signal_url("wss://lk.example.com", "TOKEN")


def test_resumed_session_passes_with_both_times():
    r = reconnect(Answer("reconnect", 14.0, node="ND_1"))
    assert (r.status, r.summary) == (Status.PASS, "signal dropped and resumed in 14 ms (the same session), full "
                                                  "reconnect (a new session) in 9 ms")


@pytest.mark.parametrize("resume, why", [
    (Answer("leave", 5.0, "STATE_MISMATCH"), "the server answered with a leave (STATE_MISMATCH): the node that "
                                             "answered does not hold the session"),
    (Answer("join", 7.0, sid="PA_other"), "the server answered with a new session (a JoinResponse): reconnect=1 and "
                                          "sid never reached it"),
    (Answer("refused", 3.0, "HTTP 404 Not Found"), "the resume request was refused (HTTP 404 Not Found)"),
    (Answer("timeout", 3000.0, "no answer within 3 s"), "the resume got no answer (no answer within 3 s)"),
])
def test_failed_resume_is_named_and_warns(resume, why):
    r = reconnect(resume)
    assert r.status is Status.WARN
    assert r.summary.startswith(f"resume failed: {why}"), r.summary
    assert r.summary.endswith("clients fall back to a full reconnect (a new session: every track republished, a "
                              "break in the call), full reconnect (a new session) in 9 ms")
    assert r.fix.startswith("Route /rtc?reconnect=1 to the node that holds the session")


def test_failed_rejoin_fails():
    r = reconnect(Answer("reconnect", 14.0), Answer("refused", 4.0, "HTTP 401 Unauthorized"))
    assert r.status is Status.FAIL
    assert r.summary.startswith("a full reconnect (a new join with the same token) failed: refused (HTTP 401 "
                                "Unauthorized); a client whose connection drops cannot rejoin")
