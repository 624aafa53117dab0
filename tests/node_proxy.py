"""A load balancer in front of two real LiveKit nodes that share keys but no Redis, without sticky
sessions: every connection goes to the first node, except a resume (`/rtc?...reconnect=1`), which
goes to the second, as it may land behind a real balancer. The choice of node is the only thing
staged; both nodes and every byte relayed are real. Runs on its own thread, like tests/tls_proxy.py.
"""

from __future__ import annotations

import asyncio
import threading

from livekit_server import free_port


class ResumeElsewhereProxy:
    def __init__(self, first_port: int, second_port: int) -> None:
        self.ports = (first_port, second_port)
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await reader.readline()
            port = self.ports[1 if b"reconnect=1" in request_line else 0]
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        up_writer.write(request_line)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    def __enter__(self) -> "ResumeElsewhereProxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
