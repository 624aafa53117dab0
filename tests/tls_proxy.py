"""A TLS-terminating TCP proxy in front of the real server, like nginx with `ssl` and WebSocket
pass-through, but started in-process so each test can pick its certificate. Bytes are relayed
unchanged: HTTP, Twirp and WebSocket upgrades reach the real LiveKit server."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

from relay import Relay


class TlsProxy(Relay):
    hosts = ["127.0.0.1", "::1"]  # both loopback families: "localhost" works whichever address a client picks

    def __init__(self, cert: Path, key: Path, upstream_port: int) -> None:
        super().__init__()
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.upstream_port = upstream_port

    async def _upstream(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        return self.upstream_port, b""
