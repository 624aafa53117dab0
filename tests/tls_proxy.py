"""A TLS-terminating TCP proxy in front of the real server, like nginx with `ssl` and WebSocket
pass-through, but started in-process so each test can pick its certificate. Bytes are relayed
unchanged: HTTP, Twirp and WebSocket upgrades reach the real LiveKit server."""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path

from livekit_server import free_port


class TlsProxy:
    def __init__(self, cert: Path, key: Path, upstream_port: int) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(cert, key)
        self.upstream_port = upstream_port
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

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
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        # both loopback families, so that "localhost" works whichever address a client picks
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, ["127.0.0.1", "::1"], self.port, ssl=self.context))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    def __enter__(self) -> "TlsProxy":
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
