"""Runs the real, pinned LiveKit server on free loopback ports with generated keys.

Used by the test fixtures, the benchmarks and scripts/demo, so that all of them exercise
the same server the same way.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
INSTALLER = ROOT / "scripts" / "install-livekit-server"


class ServerUnavailable(RuntimeError):
    """The pinned server could not be installed or started (fatal under CI=true)."""


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port free on every interface, picked below the ephemeral range.

    Port 0 would hand out an ephemeral port, which the many client connections of a test run
    can take before the server binds it ("address already in use").
    """
    low, high = 20000, max(_ephemeral_start() - 1, 20001)
    for _ in range(100):
        port = random.randint(low, high)
        with socket.socket(socket.AF_INET, kind) as sock:
            try:
                sock.bind(("", port))
            except OSError:
                continue
            return port
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_binary() -> Path:
    proc = subprocess.run([str(INSTALLER)], capture_output=True, text=True, timeout=1200)
    if proc.returncode != 0:
        raise ServerUnavailable(f"scripts/install-livekit-server failed:\n{proc.stderr.strip()}")
    return Path(proc.stdout.strip().splitlines()[-1])


def generate_keys() -> tuple[str, str]:
    """A fresh key and a 48-character secret (the server wants at least 32)."""
    return "APIk" + secrets.token_hex(6), secrets.token_urlsafe(36)


class LiveKitServer:
    """One server process; config overrides are merged into the generated YAML (JSON is YAML)."""

    def __init__(
        self,
        binary: Path | None = None,
        *,
        keys: dict[str, str] | None = None,
        config: dict[str, Any] | None = None,
        node_ip: str = "127.0.0.1",
    ) -> None:
        self.binary = binary or server_binary()
        if keys is None:
            key, secret = generate_keys()
            keys = {key: secret}
        self.keys = keys
        self.api_key, self.api_secret = next(iter(keys.items()))
        self.port = free_port()
        self.rtc_tcp_port = free_port()
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.node_ip = node_ip
        self.config: dict[str, Any] = {
            "port": self.port,
            "bind_addresses": ["127.0.0.1"],
            "rtc": {
                "tcp_port": self.rtc_tcp_port,
                "udp_port": self.udp_port,
                "use_external_ip": False,
                "node_ip": node_ip,
            },
            "keys": keys,
            "logging": {"level": "info"},
        }
        for section, values in (config or {}).items():
            if isinstance(values, dict) and isinstance(self.config.get(section), dict):
                self.config[section].update(values)
            else:
                self.config[section] = values
        self._log = tempfile.NamedTemporaryFile(prefix="livekit-server-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    host = "127.0.0.1"  # where clients reach it
    prefix: list[str] = []  # the command runs under this (tests/netns.py: `ip netns exec NAME`)

    @property
    def url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def answers(self) -> bool:
        """`GET /` answers 200."""
        try:
            with urllib.request.urlopen(self.http_url + "/", timeout=1) as resp:
                return resp.status == 200
        except (urllib.error.URLError, ConnectionError, OSError):
            return False

    def env(self) -> dict[str, str]:
        """LIVEKIT_* variables pointing a client (or the doctor) at this server."""
        return {"LIVEKIT_URL": self.url, "LIVEKIT_API_KEY": self.api_key, "LIVEKIT_API_SECRET": self.api_secret}

    def start(self, timeout: float = 30.0, attempts: int = 3) -> "LiveKitServer":
        """Start and wait for `GET /` to answer 200: the exit code says nothing (it can be 0 on a bad config).

        A port taken between picking and binding it is retried with fresh ports.
        """
        for _ in range(attempts - 1):
            try:
                return self._start_once(timeout)
            except ServerUnavailable as exc:
                if "address already in use" not in str(exc):
                    raise
                self._pick_new_ports()
        return self._start_once(timeout)

    def _pick_new_ports(self) -> None:
        rtc = self.config["rtc"]
        if self.config["port"] == self.port:
            self.port = self.config["port"] = free_port()
        if rtc["tcp_port"] == self.rtc_tcp_port:
            self.rtc_tcp_port = rtc["tcp_port"] = free_port()
        if rtc["udp_port"] == self.udp_port:
            self.udp_port = rtc["udp_port"] = free_port(socket.SOCK_DGRAM)

    def _start_once(self, timeout: float) -> "LiveKitServer":
        self._log.truncate(0)
        self._log.seek(0)
        self.proc = subprocess.Popen(
            [*self.prefix, str(self.binary), "--config-body", json.dumps(self.config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerUnavailable(f"livekit-server exited with {self.proc.returncode}:\n{self.log()}")
            if self.answers():
                return self
            time.sleep(0.1)
        self.stop()
        raise ServerUnavailable(f"livekit-server did not answer on {self.http_url} within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")[-8000:]

    def rooms(self, prefix: str = "") -> list[str]:
        """The names of the rooms the server has that start with `prefix` (ListRooms over plain HTTP)."""
        import jwt

        now = int(time.time())
        token = jwt.encode({"iss": self.api_key, "sub": "test", "nbf": now - 5, "exp": now + 60,
                            "video": {"roomList": True}}, self.api_secret)
        request = urllib.request.Request(f"{self.http_url}/twirp/livekit.RoomService/ListRooms", data=b"{}",
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=5) as resp:
            names = [room["name"] for room in json.loads(resp.read()).get("rooms", [])]
        return [name for name in names if name.startswith(prefix)]

    def pause(self) -> None:
        """SIGSTOP: the port stays open but nothing answers (a hung server)."""
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGCONT)
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def __enter__(self) -> "LiveKitServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        Path(self._log.name).unlink(missing_ok=True)
