"""LK501-LK503 against the real server: real audio, media failure, cleanup under Ctrl-C and
--timeout, and the app's own session endpoint (tests/fixtures/app_backend/server.py)."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time

import pytest

from app_backend import Backend
from conftest import FIXTURES, clean_env, codes_of, fix_of

pytestmark = pytest.mark.integration

LOCAL_STUN = {"rtc": {"stun_servers": ["127.0.0.1:3478"]}}  # no lookups of public STUN servers
DEAD_MEDIA = {"rtc": {"ips": {"includes": ["127.0.0.3/32"]}, "stun_servers": ["127.0.0.1:3478"]}}


def run_json(run_doctor, server, *args, **env):
    proc = run_doctor("--format", "json", "--no-snapshot", *args, env=clean_env(**server.env(), **env), timeout=120)
    return proc, {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}


def test_healthy_round_trip(start_server, run_doctor):
    server = start_server(config=LOCAL_STUN)
    proc, r = run_json(run_doctor, server, "--select", "LK501")
    lk501 = r["LK501"]
    assert lk501["status"] == "pass", lk501
    assert lk501["summary"].startswith("440 Hz tone heard as 440 Hz; signal ")
    assert abs(lk501["facts"]["heard_hz"] - 440) < 440 * 0.03
    assert lk501["facts"]["data_rtt_ms"] > 0 and lk501["facts"]["room_deleted"] is True
    transport = lk501["facts"]["transport"]  # the selected ICE pair: the server's own UDP or ICE/TCP port
    assert transport in {f"UDP to {a}:{server.udp_port} (host candidate)" for a in ("127.0.0.1", "fd00::2", "::1")} | \
        {f"TCP to {a}:{server.rtc_tcp_port} (host candidate)" for a in ("127.0.0.1", "fd00::2", "::1")}, transport
    assert {"room_created_ms", "signal_connect_ms", "media_connected_ms", "subscribed_ms", "first_audio_frame_ms",
            "total_ms"} <= set(lk501["facts"])
    assert server.rooms("doctor-") == []


def test_signalling_works_media_does_not(start_server, run_doctor):
    server = start_server(node_ip="127.0.0.3", config=DEAD_MEDIA)
    proc, r = run_json(run_doctor, server, "--select", "LK4,LK501")
    assert r["LK405"]["status"] == "pass"
    assert (r["LK406"]["status"], r["LK406"]["summary"]) == (
        "fail", "the server offered no ICE candidates and no TURN: clients cannot send media")
    assert r["LK501"]["status"] == "fail"
    assert r["LK501"]["summary"] == ("signalling works (LK405) but media does not: participant A connects "
                                     "(signal + media) failed: no result within 10 s; the server offers no UDP "
                                     "candidate; no ICE/TCP candidate is offered; no TURN server is configured")
    assert codes_of(r["LK501"]) == ["LK501.media-blocked"]
    assert "Open UDP 50000-60000 (rtc.port_range_start-end) and TCP 7881 (rtc.tcp_port)" in fix_of(r["LK501"])
    root = json.loads(proc.stdout)["diagnosis"]["root_causes"][0]
    assert (root["code"], root["consequences"]) == ("LK406.no-candidates", ["LK501.media-blocked"])
    assert r["LK501"]["facts"]["room_deleted"] is True
    assert server.rooms("doctor-") == []


def test_auto_create_off_round_trip_still_works(start_server, run_doctor):
    server = start_server(config=LOCAL_STUN | {"room": {"auto_create": False}})
    proc, r = run_json(run_doctor, server, "--select", "LK501")
    assert r["LK205"]["status"] == "warn"
    assert r["LK501"]["status"] == "pass"  # the doctor creates its room explicitly, as apps must then


@pytest.mark.parametrize("how", ["ctrl-c", "run-timeout"])
def test_cleanup_when_interrupted(start_server, tmp_path, how):
    server = start_server(node_ip="127.0.0.3", config=DEAD_MEDIA)  # media hangs: the run is mid-session for 10 s
    args = [sys.executable, "-m", "livekit_doctor", "--select", "LK501", "--no-snapshot", "--format", "json"]
    if how == "run-timeout":
        args += ["--timeout", "3"]
    proc = subprocess.Popen(args, env=clean_env(**server.env()), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not [r for r in server.rooms("doctor-") if not r.startswith("doctor-signal-")]:  # LK501's session is under way
        assert time.monotonic() < deadline and proc.poll() is None, "the doctor never created its room"
        time.sleep(0.1)
    if how == "ctrl-c":
        proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=60)
    result = {r["check_id"]: r for r in json.loads(out)["results"]}["LK501"]
    if how == "ctrl-c":
        assert proc.returncode == 130 and result["summary"] == "interrupted"
    else:
        assert proc.returncode == 1 and result["summary"] == "run timed out after 3.0 s"
    assert server.rooms("doctor-") == []


def test_without_the_rtc_sdk_the_round_trip_is_skipped(monkeypatch):
    from livekit_doctor.checks.session import round_trip
    from livekit_doctor.context import Context

    monkeypatch.setitem(sys.modules, "livekit.rtc", None)  # what `import livekit.rtc` sees when it is not installed
    result = asyncio.run(round_trip.func(Context(options={}, env={})))
    assert (result.status.value, result.summary) == (
        "skip", "the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]' (or: pip install livekit) in "
                "the doctor's environment")


@pytest.mark.parametrize("mode,status,summary", [
    ("correct", "pass", "POST {url} -> 200: token for"),
    ("broken", "fail", "POST {url} -> HTTP 500"),
    ("wrong-secret", "fail", "the app's token: the server at {lk} rejects it (HTTP 401): wrong API secret: the server's "
                             "signature check failed"),
    ("expired", "fail", "the app's token: the server at {lk} rejects it (HTTP 401): the token is expired"),
    ("other-url", "fail", "the server at ws://127.0.0.1:9 is not reachable (ClientConnectorError); the app hands out "
                          "ws://127.0.0.1:9 but this setup's LIVEKIT_URL is {lk}"),
    ("not-json", "fail", "POST {url} -> HTTP 200 but the body is not JSON (text/plain)"),
    ("no-token", "fail", "the answer has no token (looked for token, access_token"),
])
def test_app_endpoint(start_server, run_doctor, mode, status, summary):
    server = start_server(config=LOCAL_STUN)
    with Backend(mode, clean_env(**server.env())) as backend:
        proc, r = run_json(run_doctor, server, "--select", "LK502,LK503", "--app-endpoint", backend.url)
    lk502 = r["LK502"]
    assert lk502["status"] == status, lk502
    assert lk502["summary"].startswith(summary.format(url=backend.url, lk=server.url))
    if mode == "correct":
        assert r["LK503"]["status"] == "pass" and r["LK503"]["summary"].startswith("joined room 'voice-livekit-doctor-")
    else:
        assert r["LK503"]["status"] == "skip"


def test_500_is_linked_to_the_code_scan_finding(start_server, run_doctor):
    server = start_server(config=LOCAL_STUN)
    with Backend("broken", clean_env(**server.env())) as backend:
        proc, r = run_json(run_doctor, server, "--select", "LK3,LK502", "--app-endpoint", backend.url,
                           "--project", str(FIXTURES / "app_backend"))
    assert r["LK502"]["status"] == "fail"
    assert r["LK502"]["summary"] == (
        f"POST {backend.url} -> HTTP 500; likely cause, found by this run: server.py:53: LK302 the coroutine "
        "stored in `created` is never awaited: `created.name` (line 54) raises AttributeError")
    assert any("server.py:52:" in line and "never closed" in line for line in r["LK502"]["findings"][0]["evidence"])


def test_app_returning_the_accesstoken_object_is_named_and_its_secret_never_shown(start_server, run_doctor):
    server = start_server(config=LOCAL_STUN)
    app_env = clean_env(**{**server.env(), "LIVEKIT_API_SECRET": "A" * 8 + server.api_secret[8:]})  # its own secret
    with Backend("token-object", app_env) as backend:
        proc, r = run_json(run_doctor, server, "--select", "LK502", "--app-endpoint", backend.url)
    assert r["LK502"]["status"] == "fail"
    assert r["LK502"]["summary"] == ("the app returns the AccessToken object instead of its .to_jwt(): its JSON "
                                     "carries the API secret to every client")
    leaked = app_env["LIVEKIT_API_SECRET"]
    for i in range(len(leaked) - 8):
        assert leaked[i:i + 8] not in proc.stdout + proc.stderr
