"""LK701-LK705 on a network that can really be broken: the real server in one network namespace, the
doctor in another, nftables rules in the doctor's namespace per scenario (tests/netns.py).

Needs root: skipped with the reason on a developer machine that is not root, a failure under CI=true.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from certs import CertificateAuthority
from conftest import IN_CI, clean_env
from netns import Network, unavailable

pytestmark = pytest.mark.integration

TURN = {"enabled": True, "udp_port": 3478, "relay_range_start": 30000, "relay_range_end": 30100}
SIGNAL_ONLY_TCP = "meta l4proto tcp tcp dport != 7880 drop"  # the client may open only the signalling port


@pytest.fixture
def net() -> Iterator[Network]:
    why = unavailable()
    if why:
        if IN_CI:
            pytest.fail(f"network namespace tests cannot run in CI: {why}")
        pytest.skip(f"{why} (set CI=true to make this a failure)")
    network = Network()
    try:
        yield network.open()
    finally:
        network.close()


def diagnose(net: Network, livekit_binary: Path, *, turn: dict[str, Any] | None = None, rules: tuple[str, ...] = (),
             behind_nat: bool = False, **server: Any) -> tuple[dict[str, dict[str, Any]], dict[str, Any]]:
    """Start the server in its namespace, apply the client's firewall, run the doctor there: results by ID."""
    config = {"turn": turn} if turn else {}
    lk = net.server_process(livekit_binary, config=config, **server)
    with lk:
        if rules or behind_nat:
            net.firewall(*rules, behind_nat=behind_nat)
        proc = net.doctor("--select", "LK4,LK5,LK7", "--format", "json", "--no-snapshot",
                          env=clean_env(**lk.env()))
    doc = json.loads(proc.stdout or "{}")
    assert doc, proc.stderr[-3000:]
    return {r["check_id"]: r for r in doc["results"]}, doc


def test_all_open(net: Network, livekit_binary: Path) -> None:
    r, _ = diagnose(net, livekit_binary, turn=TURN)
    assert r["LK501"]["status"] == "pass" and r["LK501"]["facts"]["path"] == "udp", r["LK501"]
    assert r["LK701"]["status"] == "pass", r["LK701"]
    relay = r["LK701"]["facts"]["relays"][0]
    assert relay["label"] == "TURN/UDP" and relay["allocation_ms"] > 0, relay
    assert "through TURN/UDP" in relay["path"], relay
    assert r["LK702"]["status"] == "pass" and f"{net.server_ip}:7881" in r["LK702"]["summary"], r["LK702"]
    assert r["LK703"]["status"] == "pass" and r["LK703"]["summary"].startswith("UDP direct"), r["LK703"]
    assert r["LK704"]["status"] == "pass" and r["LK704"]["facts"]["resume"]["kind"] == "reconnect", r["LK704"]
    assert r["LK705"]["status"] == "pass", r["LK705"]


def test_udp_blocked_falls_back_to_tcp(net: Network, livekit_binary: Path) -> None:
    r, _ = diagnose(net, livekit_binary, turn=TURN, rules=("meta l4proto udp drop",))
    assert r["LK501"]["status"] == "pass" and r["LK501"]["facts"]["path"] == "tcp", r["LK501"]
    assert r["LK703"]["status"] == "warn", r["LK703"]
    assert "only works over the ICE/TCP fallback" in r["LK703"]["summary"] and "UDP 7882" in r["LK703"]["summary"]
    assert r["LK702"]["status"] == "pass", r["LK702"]
    assert r["LK701"]["status"] == "warn", r["LK701"]  # a private-range URL: a broken fallback warns
    assert f"TURN/UDP {net.server_ip}:3478 does not answer" in r["LK701"]["summary"], r["LK701"]


def test_udp_blocked_except_turn(net: Network, livekit_binary: Path) -> None:
    r, _ = diagnose(net, livekit_binary, turn=TURN, rules=("udp dport != 3478 drop", SIGNAL_ONLY_TCP))
    assert r["LK501"]["status"] == "pass" and r["LK501"]["facts"]["path"] == "turn/udp", r["LK501"]
    assert r["LK703"]["status"] == "warn" and "only works through TURN" in r["LK703"]["summary"], r["LK703"]
    assert r["LK701"]["status"] == "pass", r["LK701"]
    assert r["LK702"]["status"] == "warn", r["LK702"]
    assert f"TCP {net.server_ip}:7881 does not answer" in r["LK702"]["summary"], r["LK702"]


def test_only_turn_tls_on_443(net: Network, livekit_binary: Path, tmp_path: Path) -> None:
    """443-style TURN/TLS with a private CA: the relay is refused for its certificate, named as such (LiveKit
    clients accept only publicly trusted TURN certificates, and no public CA can sign one here)."""
    cert, key = CertificateAuthority(tmp_path).leaf("turn", host="turn.doctor.test")
    net.hosts("turn.doctor.test", net.server_ip)
    turn = {**TURN, "tls_port": 443, "domain": "turn.doctor.test", "cert_file": str(cert), "key_file": str(key)}
    r, _ = diagnose(net, livekit_binary, turn=turn, rules=("meta l4proto udp drop", "tcp dport != { 7880, 443 } drop"))
    relays = {e["label"]: e for e in r["LK701"]["facts"]["relays"]}
    assert set(relays) == {"TURN/UDP", "TURN/TLS"}, relays
    assert "certificate not trusted" in relays["TURN/TLS"]["cause"], relays["TURN/TLS"]
    assert "does not answer" in relays["TURN/UDP"]["cause"], relays["TURN/UDP"]
    assert r["LK701"]["status"] == "warn", r["LK701"]
    assert r["LK501"]["status"] == "fail", r["LK501"]


def test_media_ports_closed(net: Network, livekit_binary: Path) -> None:
    r, doc = diagnose(net, livekit_binary, rules=("udp dport 7882 drop", "tcp dport 7881 drop"))
    assert r["LK701"]["status"] == "skip" and "no TURN offered" in r["LK701"]["summary"], r["LK701"]
    assert r["LK702"]["status"] == "warn", r["LK702"]
    assert f"TCP {net.server_ip}:7881 does not answer" in r["LK702"]["summary"], r["LK702"]
    assert r["LK705"]["status"] == "pass" and "the address reached" in r["LK705"]["summary"], r["LK705"]
    assert r["LK501"]["status"] == "fail", r["LK501"]
    root = doc["diagnosis"]["root_causes"][0]
    assert root["code"] == "LK501.media-blocked", doc["diagnosis"]  # the fallback that also fails is a consequence
    assert "LK702.tcp-closed" in root["consequences"], doc["diagnosis"]
    assert f"TCP {net.server_ip}:7881 does not answer" in root["message"] and "UDP" in root["message"], root
    assert "Open UDP 7882 and TCP 7881" in root["fix"], root


def test_node_ip_nobody_can_reach(net: Network, livekit_binary: Path) -> None:
    """The client behind NAT (a stateful firewall: nothing comes in that it did not ask for)."""
    unreachable = net.server_ip.rsplit(".", 1)[0] + ".99"
    r, doc = diagnose(net, livekit_binary, node_ip=unreachable, behind_nat=True)
    assert r["LK705"]["status"] == "fail", r["LK705"]
    assert f"advertises {unreachable}" in r["LK705"]["summary"], r["LK705"]
    assert f"reached the server at {net.server_ip}" in r["LK705"]["summary"], r["LK705"]
    assert r["LK501"]["status"] == "fail", r["LK501"]
    root = doc["diagnosis"]["root_causes"][0]
    assert root["code"] == "LK705.advertised-unreachable", doc["diagnosis"]
    assert "LK501.media-blocked" in root["consequences"] and "rtc.node_ip" in root["fix"], doc["diagnosis"]


def test_node_ip_wrong_but_client_reachable(net: Network, livekit_binary: Path) -> None:
    """Without NAT the server reaches the client itself (a peer-reflexive candidate): media works here, and
    LK705 warns that clients behind NAT will not get it."""
    unreachable = net.server_ip.rsplit(".", 1)[0] + ".99"
    r, _ = diagnose(net, livekit_binary, node_ip=unreachable)
    assert r["LK501"]["status"] == "pass" and "prflx" in r["LK501"]["facts"]["transport"], r["LK501"]
    assert r["LK705"]["status"] == "warn" and "behind NAT" in r["LK705"]["summary"], r["LK705"]


def test_relay_refuses_private_media_address(net: Network, livekit_binary: Path) -> None:
    """A server whose node IP is private: its own TURN server allocates a relay but will not relay to it."""
    private = "10.213.7.1"
    net.alias(private)
    # TURN bound to that address, so that its answers come from the address the client asked
    r, _ = diagnose(net, livekit_binary, turn={**TURN, "bind_addresses": [private]}, node_ip=private)
    cause = r["LK701"]["facts"]["relays"][0]["cause"]
    assert "refuses to relay to the server's media address" in cause and private in cause, cause
