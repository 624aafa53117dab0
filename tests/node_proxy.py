"""A load balancer in front of two real LiveKit nodes that share keys but no Redis, without sticky
sessions: every connection goes to the first node, except a resume (`/rtc?...reconnect=1`), which
goes to the second, as it may land behind a real balancer. The choice of node is the only thing
staged; both nodes and every byte relayed are real. Runs on its own thread, like tests/tls_proxy.py.
"""

from __future__ import annotations

import asyncio

from relay import Relay


class ResumeElsewhereProxy(Relay):
    def __init__(self, first_port: int, second_port: int) -> None:
        super().__init__()
        self.ports = (first_port, second_port)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _upstream(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        request_line = await reader.readline()
        return self.ports[1 if b"reconnect=1" in request_line else 0], request_line
