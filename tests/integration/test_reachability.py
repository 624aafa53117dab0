"""LK401-LK406 against real listeners: the server, a TLS proxy with real certificates, a plain web
server, a silent socket, a paused server, nothing at all. Each asserts check ID, status and cause."""

from __future__ import annotations

import json
import socket

import pytest

from certs import CertificateAuthority
from conftest import clean_env, fix_of
from livekit_server import free_port
from tls_proxy import TlsProxy
from web_server import serving

pytestmark = pytest.mark.integration


def lk4(run_doctor, tmp_path, env, *extra) -> dict[str, dict]:
    proc = run_doctor("--select", "LK4", "--format", "json", "--no-snapshot", "--timeout", "30", *extra,
                      env=clean_env(HOME=str(tmp_path), **env))
    doc = json.loads(proc.stdout)
    assert not doc["timed_out"]
    return {r["check_id"]: r for r in doc["results"]}


def status(results: dict[str, dict]) -> dict[str, str]:
    return {cid: r["status"] for cid, r in results.items() if cid.startswith("LK4")}


def test_real_server_passes_every_layer(livekit_server, run_doctor, tmp_path):
    r = lk4(run_doctor, tmp_path, livekit_server.env())
    assert status(r) == {"LK401": "pass", "LK402": "pass", "LK403": "skip", "LK404": "pass", "LK405": "pass",
                         "LK406": "pass"}
    assert r["LK405"]["facts"]["server"]["version"] == "1.13.5"
    assert r["LK405"]["summary"].startswith("joined in ")
    assert f"127.0.0.1:{livekit_server.udp_port}" in r["LK406"]["facts"]["udp"]
    assert f"127.0.0.1:{livekit_server.rtc_tcp_port}" in r["LK406"]["facts"]["tcp"]
    assert (r["LK401"]["summary"], r["LK401"]["facts"]["dns_ms"]) == (
        "127.0.0.1 (loopback): an IP address, no lookup needed", 0)
    for key, name in (("LK402", "connect_ms"), ("LK404", "first_byte_ms"), ("LK405", "join_ms")):
        assert r[key]["facts"][name] > 0


def test_host_name_is_resolved_and_timed(livekit_server, run_doctor, tmp_path):
    proc = run_doctor("--select", "LK401", "--format", "json", "--no-snapshot",
                      env=clean_env(HOME=str(tmp_path), **livekit_server.env()
                                    | {"LIVEKIT_URL": f"ws://localhost:{livekit_server.port}"}))
    (r,) = json.loads(proc.stdout)["results"]
    assert (r["check_id"], r["status"]) == ("LK401", "pass")
    assert "127.0.0.1" in r["facts"]["addresses"] and r["facts"]["dns_ms"] > 0
    assert r["summary"].startswith("localhost -> ") and "127.0.0.1 (loopback)" in r["summary"]


def test_nothing_listening(livekit_server, run_doctor, tmp_path):
    port = free_port()
    r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"ws://127.0.0.1:{port}"})
    assert (r["LK402"]["status"], r["LK402"]["summary"]) == (
        "fail", f"connection refused: nothing listens on port {port} at 127.0.0.1")
    assert r["LK404"]["status"] == "skip" and r["LK405"]["status"] == "skip"


def test_connect_timeout_when_syns_are_dropped(livekit_server, run_doctor, tmp_path):
    """A listener whose accept backlog is full: Linux drops further SYNs, as a firewall would."""
    with socket.socket() as full:
        full.bind(("127.0.0.1", 0))
        full.listen(0)
        port = full.getsockname()[1]
        fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(("127.0.0.1", port))
            fillers.append(filler)
        try:
            r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"ws://127.0.0.1:{port}"},
                    "--net-timeout", "1")
        finally:
            for filler in fillers:
                filler.close()
    assert (r["LK402"]["status"], r["LK402"]["summary"]) == (
        "fail", f"connection timed out after 1 s at 127.0.0.1:{port}: packets are dropped")
    assert fix_of(r["LK402"]) == f"A firewall or security group drops traffic to port {port}: open it, or check the address."


def test_listener_that_never_answers_ends_at_the_timeout(livekit_server, run_doctor, tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"ws://127.0.0.1:{port}"},
                "--net-timeout", "1")
    assert r["LK402"]["status"] == "pass"
    assert (r["LK404"]["status"], r["LK404"]["summary"]) == (
        "fail", "no HTTP answer within 1 s: the port accepts connections but nothing answers")
    assert r["LK405"]["status"] == "skip"


def test_paused_server(start_server, run_doctor, tmp_path):
    server = start_server()
    server.pause()
    try:
        r = lk4(run_doctor, tmp_path, server.env(), "--net-timeout", "1")
    finally:
        server.resume()
    assert r["LK402"]["status"] == "pass"  # the kernel still accepts connections for a stopped process
    assert r["LK404"]["summary"] == "no HTTP answer within 1 s: the port accepts connections but nothing answers"
    assert "stopped (Ctrl-Z/SIGSTOP)" in fix_of(r["LK404"])


def test_plain_web_server_is_not_livekit(livekit_server, run_doctor, tmp_path):
    with serving(lambda path: (200, b"<html><body>Welcome to nginx!</body></html>")) as port:
        r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"ws://127.0.0.1:{port}"})
    assert r["LK404"]["status"] == "fail"
    assert r["LK404"]["summary"].startswith(f"something other than a LiveKit server answers at http://127.0.0.1:{port}: "
                                            "HTTP 200, Server: BaseHTTP/")
    assert r["LK404"]["summary"].endswith("body: '<html><body>Welcome to nginx!</body></html>'")


def test_ok_on_slash_but_not_livekit(livekit_server, run_doctor, tmp_path):
    with serving(lambda path: (200, b"OK") if path == "/" else (404, b"not found")) as port:
        r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"ws://127.0.0.1:{port}"})
    assert (r["LK404"]["status"], r["LK404"]["summary"]) == (
        "fail", "GET / -> 200 OK, but /rtc/validate answers HTTP 404 instead of 401: this is not a LiveKit server, "
                "or a proxy forwards only some paths to it")


def test_unresolvable_name(livekit_server, run_doctor, tmp_path):
    r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": "wss://voice.doctor-test.invalid"})
    assert r["LK401"]["status"] == "fail"
    assert r["LK401"]["summary"].startswith("voice.doctor-test.invalid does not resolve: ")
    assert {r[c]["status"] for c in ("LK402", "LK403", "LK404", "LK405", "LK406")} == {"skip"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


@pytest.mark.parametrize("case,cert_kwargs,with_ca,summary", [
    ("valid", {}, True, None),
    ("self-signed", {"self_signed": True}, True, "the certificate is self-signed"),
    ("expired", {"expired": True}, True, "the certificate has expired"),
    ("wrong-host", {"host": "other.example.com"}, True, "the certificate does not match the host name"),
    ("private-ca-not-given", {}, False, "the certificate's issuer is not trusted here (unknown or private CA, or a "
                                        "missing intermediate)"),
    ("expires-soon", {"days": 5}, True, None),
])
def test_tls_proxy_certificates(livekit_server, run_doctor, tmp_path, ca, case, cert_kwargs, with_ca, summary):
    cert, key = ca.leaf(case, **cert_kwargs)
    with TlsProxy(cert, key, livekit_server.port) as proxy:
        extra = ("--ca-file", str(ca.path)) if with_ca else ()
        r = lk4(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": f"wss://localhost:{proxy.port}"}, *extra)
    if case == "valid":
        assert status(r) == {"LK401": "pass", "LK402": "pass", "LK403": "pass", "LK404": "pass", "LK405": "pass",
                             "LK406": "pass"}
        assert r["LK403"]["summary"].startswith("TLSv1.3, certificate for commonName=localhost from "
                                                "commonName=livekit-doctor test CA, valid 90 more days")
        assert r["LK403"]["facts"]["tls_ms"] > 0
    elif case == "expires-soon":
        assert r["LK403"]["status"] == "note"  # hygiene: it works today
        assert [(f["code"], f["message"]) for f in r["LK403"]["findings"]] == [
            ("LK403.expires-soon", "the certificate expires in 5 days")]
    else:
        assert (r["LK403"]["status"], r["LK403"]["summary"]) == ("fail", f"localhost:{proxy.port}: {summary}")
        assert r["LK404"]["status"] == "skip" and r["LK405"]["status"] == "skip"
