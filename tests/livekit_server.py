"""Runs the real, pinned LiveKit server on free loopback ports with generated keys.

Used by the test fixtures, the benchmarks and scripts/demo, so that all of them exercise
the same server the same way.
"""

from __future__ import annotations

import json
import os
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


def free_port(kind: int = socket.SOCK_STREAM) -> int:
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

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """LIVEKIT_* variables pointing a client (or the doctor) at this server."""
        return {"LIVEKIT_URL": self.url, "LIVEKIT_API_KEY": self.api_key, "LIVEKIT_API_SECRET": self.api_secret}

    def start(self, timeout: float = 30.0) -> "LiveKitServer":
        """Start and wait for `GET /` to answer 200: the exit code says nothing (it can be 0 on a bad config)."""
        self.proc = subprocess.Popen(
            [str(self.binary), "--config-body", json.dumps(self.config)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerUnavailable(f"livekit-server exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.http_url + "/", timeout=1) as resp:
                    if resp.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.1)
        self.stop()
        raise ServerUnavailable(f"livekit-server did not answer on {self.http_url} within {timeout:.0f} s:\n{self.log()}")

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")[-8000:]

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
