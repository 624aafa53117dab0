"""A TCP relay on its own thread and event loop, the base of the tests' proxies (tls_proxy, node_proxy):
each says where a connection goes (`_upstream`) and how it listens; every byte is relayed unchanged."""

from __future__ import annotations

import asyncio
import ssl
import threading
from typing import Self

from livekit_server import free_port


class Relay:
    hosts: str | list[str] = "127.0.0.1"
    context: ssl.SSLContext | None = None  # terminate TLS with it

    def __init__(self) -> None:
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _upstream(self, reader: asyncio.StreamReader) -> tuple[int, bytes]:
        """The loopback port this connection goes to, and bytes already read from it to send on first."""
        raise NotImplementedError

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
            port, first = await self._upstream(reader)
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            writer.close()
            return
        up_writer.write(first)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, self.hosts, self.port, ssl=self.context))
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()

    def __enter__(self) -> Self:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
