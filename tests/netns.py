"""Two network namespaces joined by a veth pair: the LiveKit server in one, the doctor in the other,
with firewall rules (nftables) inside the doctor's namespace per scenario. Needs root.

Addresses come from 198.18.0.0/15 (reserved for benchmarking, never routed): the embedded TURN
server refuses to relay to private and loopback peers, as it would on the Internet, so the server
gets an address TURN accepts. No traffic leaves the machine: the namespaces have no other links.
Names are unique per network (a random tag), and `close()` removes everything, also after a failure.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from livekit_server import LiveKitServer

ETC_NETNS = Path("/etc/netns")  # `ip netns exec NAME` mounts /etc/netns/NAME/hosts over /etc/hosts


def unavailable() -> str | None:
    """Why namespaces cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (run the tests as root, as CI does)"
    for tool in ("ip", "nft"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (scripts/install-nftables installs nftables)"
    return None


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=check, timeout=30)


class Network:
    """`server` and `client` namespaces; the server at 198.18.N.1, the client at 198.18.N.2."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(3)
        self.server, self.client = f"lkd-s-{self.tag}", f"lkd-c-{self.tag}"
        subnet = int(self.tag, 16) % 250 + 1
        self.server_ip, self.client_ip = f"198.18.{subnet}.1", f"198.18.{subnet}.2"
        self.created: list[str] = []

    def open(self) -> "Network":
        veth_s, veth_c = f"lkd{self.tag}s", f"lkd{self.tag}c"
        for ns in (self.server, self.client):
            _run("ip", "netns", "add", ns)
            self.created.append(ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "link", "add", veth_s, "netns", self.server, "type", "veth", "peer", "name", veth_c, "netns",
             self.client)
        for ns, dev, ip in ((self.server, veth_s, self.server_ip), (self.client, veth_c, self.client_ip)):
            _run("ip", "-n", ns, "addr", "add", f"{ip}/24", "dev", dev)
            _run("ip", "-n", ns, "link", "set", dev, "up")
        return self

    def hosts(self, name: str, ip: str) -> None:
        """A host name the client namespace resolves (for TURN/TLS's turn.domain)."""
        directory = ETC_NETNS / self.client
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "hosts").write_text(f"127.0.0.1 localhost\n{ip} {name}\n")

    def alias(self, ip: str) -> None:
        """A second server address (on its loopback), routed from the client: e.g. a private node IP."""
        _run("ip", "-n", self.server, "addr", "add", f"{ip}/32", "dev", "lo")
        _run("ip", "-n", self.client, "route", "add", f"{ip}/32", "via", self.server_ip)

    def firewall(self, *rules: str, behind_nat: bool = False) -> None:
        """nft rules on the client's outgoing traffic, e.g. 'meta l4proto udp drop' (the client's firewall);
        `behind_nat`: nothing comes in that the client did not ask for, as behind a NAT router."""
        inbound = [" chain in {", "  type filter hook input priority 0; policy drop;", "  iifname \"lo\" accept",
                   "  ct state established,related accept", " }"] if behind_nat else []
        script = ["table inet doctor {", " chain out {", "  type filter hook output priority 0; policy accept;",
                  "  oifname \"lo\" accept", *(f"  {rule}" for rule in rules), " }", *inbound, "}"]
        subprocess.run(["ip", "netns", "exec", self.client, "nft", "-f", "-"], input="\n".join(script), text=True,
                       check=True, capture_output=True, timeout=30)

    def server_process(self, binary: Path, **kwargs: Any) -> LiveKitServer:
        """A LiveKit server (not started) in the server namespace, its clients pointed at server_ip."""
        net = self

        class NamespacedServer(LiveKitServer):
            host = net.server_ip
            prefix = ["ip", "netns", "exec", net.server]

            def answers(self) -> bool:
                probe = (f"import urllib.request as u; u.urlopen('{self.http_url}/', timeout=1)")
                return subprocess.run(["ip", "netns", "exec", net.client, sys.executable, "-c", probe],
                                      capture_output=True, timeout=10).returncode == 0

        kwargs.setdefault("node_ip", self.server_ip)
        config = kwargs.pop("config", {})
        server = NamespacedServer(binary, config=config, **kwargs)
        server.port, server.rtc_tcp_port, server.udp_port = 7880, 7881, 7882  # a namespace of its own: fixed ports
        server.config["port"] = server.port
        server.config["bind_addresses"] = [self.server_ip]
        server.config["rtc"].update(tcp_port=7881, udp_port=7882, stun_servers=[f"{self.server_ip}:3478"])
        return server

    def doctor(self, *args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """`python -m livekit_doctor ARGS` in the client namespace."""
        return subprocess.run(["ip", "netns", "exec", self.client, sys.executable, "-m", "livekit_doctor", *args],
                              capture_output=True, text=True, env=env, timeout=timeout)

    def close(self) -> None:
        for ns in self.created:
            for pid in _run("ip", "netns", "pids", ns, check=False).stdout.split():
                try:
                    os.kill(int(pid), 9)  # only processes inside the namespaces this network created
                except (ProcessLookupError, ValueError):
                    pass
            _run("ip", "netns", "del", ns, check=False)  # removes its end of the veth pair, and so the pair
        shutil.rmtree(ETC_NETNS / self.client, ignore_errors=True)
        self.created.clear()
