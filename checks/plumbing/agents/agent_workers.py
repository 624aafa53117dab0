"""Agent workers running on this machine, found by their health endpoint (`GET /worker`).

Every livekit-agents worker serves one (port 8081 unless `WorkerOptions(port=...)` says
otherwise; 1.3+ adds its load). The server has no API listing workers, so when a dispatch gets
no job this is the evidence that tells "nobody registered under that name" from "a worker with
that name runs here but takes no job" and from "the worker here registers another name".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Iterable

DEFAULT_PORT = 8081
MAX_PORTS = 32  # listening ports of Python processes probed at most
PROBE_TIMEOUT = 0.5


@dataclass(frozen=True)
class LocalWorker:
    port: int
    agent_name: str
    load: float | None  # the worker's own load figure (1.3+), 0..1
    active_jobs: int | None
    sdk_version: str | None


def python_listen_ports() -> list[int]:
    """Loopback/any-address TCP ports listened on by Python processes (where workers' health servers live)."""
    import psutil

    ports: list[int] = []
    try:
        connections = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, OSError):
        return ports
    names: dict[int, bool] = {}
    for conn in connections:
        if conn.status != psutil.CONN_LISTEN or conn.pid is None or not conn.laddr:
            continue
        if conn.pid not in names:
            try:
                names[conn.pid] = "python" in psutil.Process(conn.pid).name().lower()
            except (psutil.Error, OSError):
                names[conn.pid] = False
        if names[conn.pid] and conn.laddr.port not in ports:
            ports.append(conn.laddr.port)
    return ports[:MAX_PORTS]


def parse_worker(port: int, body: str) -> LocalWorker | None:
    """A worker's /worker answer, or None when what answered is not an agent worker."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or "agent_name" not in data or "worker_type" not in data:
        return None
    load = data.get("worker_load")
    jobs = data.get("active_jobs")
    return LocalWorker(port, str(data.get("agent_name") or ""), float(load) if load is not None else None,
                       int(jobs) if jobs is not None else None, data.get("sdk_version"))


async def local_workers(extra_ports: Iterable[int] = ()) -> list[LocalWorker]:
    """Workers answering on 127.0.0.1: the default port, the ports the code names, Python processes' ports."""
    import asyncio

    import aiohttp

    ports = list(dict.fromkeys([DEFAULT_PORT, *extra_ports, *await asyncio.to_thread(python_listen_ports)]))

    async def ask(session: aiohttp.ClientSession, port: int) -> LocalWorker | None:
        try:
            async with session.get(f"http://127.0.0.1:{port}/worker") as resp:
                return parse_worker(port, await resp.text()) if resp.status == 200 else None
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError, UnicodeDecodeError):
            return None

    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=PROBE_TIMEOUT)) as session:
        found = await asyncio.gather(*(ask(session, p) for p in ports))
    return [w for w in found if w is not None]
