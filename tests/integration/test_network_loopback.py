"""LK701 and LK704 scenarios that need no network namespace: the real server(s) on loopback.

A healthy resume; a resume that lands on another node (two real nodes without Redis behind a
balancer without sticky sessions, tests/node_proxy.py); and an external TURN server (a second real
server's embedded TURN, listed in `rtc.turn_servers`) that refuses the credentials the first one issues.
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from conftest import clean_env, fix_of
from livekit_server import free_port, generate_keys
from node_proxy import ResumeElsewhereProxy

pytestmark = pytest.mark.integration

LOCAL_STUN = {"rtc": {"stun_servers": ["127.0.0.1:3478"]}}  # no lookups of public STUN servers


def results(run_doctor, env: dict[str, str], *select: str) -> dict[str, dict[str, Any]]:
    proc = run_doctor("--select", ",".join(select), "--format", "json", "--no-snapshot", env=clean_env(**env))
    doc = json.loads(proc.stdout or "{}")
    assert doc, proc.stderr[-3000:]
    return {r["check_id"]: r for r in doc["results"]}


def test_resume_keeps_the_session(start_server, run_doctor):
    server = start_server(config=LOCAL_STUN)
    r = results(run_doctor, server.env(), "LK704")["LK704"]
    assert r["status"] == "pass", r
    assert r["summary"].startswith("signal dropped and resumed in ") and "(the same session)" in r["summary"], r
    assert r["facts"]["resume"]["kind"] == "reconnect" and r["facts"]["full_reconnect"]["kind"] == "join", r
    assert r["facts"]["full_reconnect"]["sid"] != r["facts"]["sid"], r  # the full reconnect is a new session


def test_resume_on_another_node_is_named(start_server, run_doctor):
    keys = dict([generate_keys()])
    first, second = (start_server(keys=keys, config=LOCAL_STUN) for _ in range(2))
    with ResumeElsewhereProxy(first.port, second.port) as proxy:
        r = results(run_doctor, {**first.env(), "LIVEKIT_URL": proxy.url}, "LK704")["LK704"]
    assert r["status"] == "warn", r
    assert r["summary"].startswith("resume failed: the server answered with a leave (STATE_MISMATCH): the node that "
                                   "answered does not hold the session"), r
    assert "could not restart participant" in second.log()
    assert fix_of(r).startswith("Route /rtc?reconnect=1 to the node that holds the session"), r


def test_external_turn_refusing_the_credentials(start_server, run_doctor):
    turn_port = free_port(socket.SOCK_DGRAM)
    start_server(config={**LOCAL_STUN, "turn": {"enabled": True, "udp_port": turn_port}})  # its own keys
    server = start_server(config={"rtc": {"stun_servers": ["127.0.0.1:3478"], "turn_servers": [
        {"host": "127.0.0.1", "port": turn_port, "protocol": "udp", "username": "doctor", "credential": "other"}]}})
    r = results(run_doctor, server.env(), "LK701")["LK701"]
    assert r["status"] == "warn", r  # a loopback URL: a broken fallback warns
    relay = r["facts"]["relays"][0]
    assert relay["step"] == "credentials", relay
    # LiveKit's TURN server (pion) challenges, then drops an Allocate whose credentials it cannot verify
    assert relay["cause"] == (f"TURN/UDP 127.0.0.1:{turn_port} answered but refused the credentials the server issued "
                              "(no answer to the authenticated Allocate within 3 s)"), relay
    assert fix_of(r).startswith("The TURN server refuses the credentials LiveKit issues"), r

