"""LiveKit servers on this machine: their processes, which of their ports is the signalling port, and
whether that port accepts the configured credentials (LK004 judges; this module only looks).

A server is recognised by name (`livekit-server`, the `server` binary `go install` builds from
livekit-server) or, for a binary merely called `server`, by what answers on its ports. Probes are
small and bounded (0.5 s per port, about 1 s for a credentials check) and run concurrently.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from typing import Any

from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.server.server_api import judge_validate, quoted, validate
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.server.tokens import join_grants, mint
from livekit_doctor.plugin import Context, in_daemon_thread

PORT_PROBE_SECONDS = 0.5
CREDENTIALS_PROBE_SECONDS = 1.0
PROBE_ROOM = "livekit-doctor-port-probe"


def is_livekit_server(name: str, cmdline: list[str]) -> bool:
    """`livekit-server` from releases, or the `server` binary `go install` builds from livekit-server."""
    if name == "livekit-server":
        return True
    first = cmdline[0] if cmdline else ""
    return "livekit-server" in first or (os.path.basename(first) == "server" and "livekit" in first)


def maybe_livekit_server(name: str, cmdline: list[str]) -> bool:
    """A binary named `server` anywhere (`go install` to a GOBIN of the user's choice): judged by what answers."""
    return name == "server" or os.path.basename(cmdline[0] if cmdline else "") == "server"


def server_processes() -> list[dict[str, Any]]:
    """Processes that are, or may be, a LiveKit server, with the TCP ports they listen on (blocking: psutil)."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid", "name", "cmdline", "status"]):
        info = proc.info
        name, cmdline = info.get("name") or "", info.get("cmdline") or []
        named = is_livekit_server(name, cmdline)
        if not (named or maybe_livekit_server(name, cmdline)):
            continue
        try:
            conns = proc.net_connections(kind="inet")
            ports = sorted({c.laddr.port for c in conns if c.status == psutil.CONN_LISTEN})
            addresses = sorted({f"{c.laddr.ip}:{c.laddr.port}" for c in conns if c.status == psutil.CONN_LISTEN})
        except (psutil.AccessDenied, psutil.NoSuchProcess):
            ports, addresses = [], []
        found.append({"pid": info["pid"], "status": info.get("status"), "tcp_listen_ports": ports,
                      "listen": addresses, "named": named})
    return found


async def accepts_tcp(host: str, port: int, timeout: float = PORT_PROBE_SECONDS) -> bool:
    """Whether anything accepts a TCP connection there."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    return True


async def _get(host: str, port: int, path: str, timeout: float) -> bytes:
    async def exchange() -> bytes:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            data = b""
            while len(data) <= 4096 and (chunk := await reader.read(4096)):
                data += chunk
            return data
        finally:
            writer.close()

    return await asyncio.wait_for(exchange(), timeout)


async def answers_like_livekit(host: str, port: int, timeout: float = PORT_PROBE_SECONDS) -> bool:
    """GET / answered by "200 OK" with body "OK" and /rtc/validate asking for a token: the signalling port,
    told apart from the server's other ports (ICE/TCP, TURN, metrics)."""
    try:
        root, check = await asyncio.gather(_get(host, port, "/", timeout), _get(host, port, "/rtc/validate", timeout))
    except (OSError, asyncio.TimeoutError):
        return False
    return root.startswith(b"HTTP/1.") and b" 200 " in root.split(b"\r\n", 1)[0] and root.rstrip().endswith(b"OK") \
        and b" 401 " in check.split(b"\r\n", 1)[0]


async def signalling_port(host: str, ports: list[int], timeout: float = PORT_PROBE_SECONDS) -> int | None:
    """Which of a server's listening ports is its HTTP/WebSocket (signalling) port, if any."""
    answers = await asyncio.gather(*(answers_like_livekit(host, p, timeout) for p in ports))
    return next((p for p, yes in zip(ports, answers) if yes), None)


async def local_servers(host: str = "127.0.0.1") -> list[dict[str, Any]]:
    """The LiveKit server processes here; a binary merely named `server` counts when one of its ports
    answers like LiveKit (or it is stopped, so nothing can answer)."""
    procs = await in_daemon_thread(server_processes)
    found = await asyncio.gather(*(signalling_port(host, p["tcp_listen_ports"]) for p in procs))
    kept = []
    for proc, http in zip(procs, found):
        if proc.pop("named") or proc["status"] == "stopped" or http is not None:
            kept.append({**proc, "signalling_port": http})
    return kept


@dataclass(frozen=True)
class Welcome:
    """What a LiveKit server's /rtc/validate said to a join token signed with the configured credentials."""

    port: int
    accepted: bool | None  # None: not known (nothing to sign with, or no answer)
    said: str  # the server's own words ("server said: invalid API key: APIxyz"), or why nothing is known
    cause: str = ""  # a refusal's meaning ("the server does not know this API key")


def _netloc(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


async def welcomes(ctx: Context, host: str, ports: list[int],
                   timeout: float = CREDENTIALS_PROBE_SECONDS) -> dict[int, Welcome]:
    """Whether the LiveKit server on each port accepts the configured key and secret, asked the way a client
    asks before joining (GET /rtc/validate with a join token), each within `timeout`."""
    s = livekit_settings(ctx)
    if not ports:
        return {}
    if not (s.api_key and s.api_secret):
        return {p: Welcome(p, None, "no API key and secret are configured to try it with") for p in ports}
    token = mint(s.api_key, s.api_secret, identity="livekit-doctor-port-probe", video=join_grants(PROBE_ROOM), ttl=60)
    import aiohttp

    async with await client_session(ctx, total=timeout) as session:
        async def one(port: int) -> Welcome:
            try:
                status, body, _ = await asyncio.wait_for(validate(session, f"http://{_netloc(host, port)}", token),
                                                         timeout)
            except (asyncio.TimeoutError, aiohttp.ClientError, OSError) as exc:
                why = f"no answer within {timeout:g} s" if isinstance(exc, asyncio.TimeoutError) else str(exc)
                return Welcome(port, None, f"/rtc/validate gave no verdict: {why}")
            said = ctx.redactor.redact(f"HTTP {status}, {quoted(body, token)}")
            verdict = judge_validate(status, body)
            if verdict.accepted:
                return Welcome(port, True, said)
            known = status in (401, 403)  # the auth middleware's refusals; anything else says nothing about keys
            return Welcome(port, False if known else None, said, verdict.text)

        answers = await asyncio.gather(*(one(p) for p in ports))
    return {w.port: w for w in answers}
