"""A real WebSocket join on /rtc, done once per run: the JoinResponse (server version, protocol,
node, ICE servers) and the ICE candidates the server trickles right after it.

The room it joins is created first (servers with auto-create off refuse a missing one) and
deleted afterwards, even when the join is cancelled, so no `doctor-` room is left behind.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.server.server_api import classify, twirp
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import Target, net_timeout
from livekit_doctor.checks.plumbing.server.tokens import admin_grants, join_grants, mint
from livekit_doctor.plugin import Context, import_off_loop

if TYPE_CHECKING:
    import aiohttp

PROTOCOL = 16  # the signal protocol version the doctor speaks (servers answer with theirs)
CANDIDATE_QUIET_S = 0.15  # stop listening for trickled candidates after this much silence


@dataclass
class Join:
    ok: bool = False
    kind: str = ""  # why the join failed, as LK405's finding code names it (JOIN_FAILURES)
    cause: str = ""
    fix: str = ""
    join_ms: float = 0.0
    server: dict[str, Any] = field(default_factory=dict)
    ice_servers: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    room: str = ""
    turn_credentials: list[tuple[list[str], str, str]] = field(default_factory=list)  # (urls, username, credential)


JOIN_FAILURES = ("upgrade-refused", "websocket-timeout", "websocket-failed", "no-join-response")


def parse_candidate(line: str) -> dict[str, Any] | None:
    """'candidate:1 1 udp 2130706431 10.0.0.5 50000 typ host ...' -> protocol, address, port, type."""
    parts = line.removeprefix("candidate:").split()
    if len(parts) < 8:
        return None
    return {"protocol": parts[2].lower(), "address": parts[4], "port": int(parts[5]), "type": parts[7]}


async def signal_join(ctx: Context, t: Target) -> Join:
    async def join() -> Join:
        import asyncio

        await import_off_loop("aiohttp", "livekit.protocol.rtc")
        import aiohttp

        s = livekit_settings(ctx)
        key, secret = s.api_key, s.api_secret
        room = f"doctor-signal-{secrets.token_hex(4)}"
        token = mint(key, secret, identity="livekit-doctor-signal", video=join_grants(room))
        ws_url = f"{t.ws_base}/rtc?access_token={token}&protocol={PROTOCOL}&auto_subscribe=0&sdk=python&version=doctor"
        timeout = net_timeout(ctx)
        result = Join(room=room)
        admin = mint(key, secret, identity="livekit-doctor", video=admin_grants(room))
        async with await client_session(ctx, total=None) as session:
            async def room_call(method: str, body: dict[str, Any]) -> None:
                try:
                    await asyncio.wait_for(twirp(session, t.http_base, admin, method, body), timeout)
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                    pass  # CreateRoom: the join reports what is wrong; DeleteRoom: the server expires it

            # create the room first: servers with room.auto_create off refuse to join a missing one
            await room_call("CreateRoom", {"name": room, "empty_timeout": 10})
            try:
                with ctx.measuring():  # join_ms is reported
                    await _join(ws_url, session, timeout, result)
                for _, _, credential in result.turn_credentials:
                    ctx.redactor.add(credential)
            finally:  # even when cancelled (Ctrl-C, run timeout): no doctor- room is left behind
                await asyncio.shield(room_call("DeleteRoom", {"room": room}))
        return result

    return await ctx.amemo("net.signal", join)


async def _join(url: str, session: "aiohttp.ClientSession", timeout: float, result: Join) -> None:
    """Open /rtc, read the JoinResponse and the candidates trickled after it, into `result`."""
    import asyncio

    import aiohttp

    start = time.perf_counter()
    try:
        async with session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=1)) as ws:
            await _read_signal(ws, result, timeout, start)
    except aiohttp.WSServerHandshakeError as exc:
        why = classify(exc.status, exc.message or "")
        result.kind = why.reason.value if exc.status in (401, 403) else "upgrade-refused"
        result.cause = f"WebSocket upgrade on /rtc refused: HTTP {exc.status}" + (
            f" ({why.cause})" if exc.status in (401, 403) else "")
        result.fix = why.fix if exc.status in (401, 403) else (
            "The proxy in front of the server must forward /rtc with the Upgrade and Connection headers "
            "(nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; ...Connection \"upgrade\").")
    except asyncio.TimeoutError:
        result.kind, result.cause = "websocket-timeout", f"the WebSocket did not open within {timeout:g} s"
        result.fix = "Check that the proxy forwards WebSocket upgrades to port 7880."
    except (aiohttp.ClientError, OSError) as exc:
        result.kind, result.cause = "websocket-failed", f"WebSocket connection failed: {type(exc).__name__}: {exc}"
        result.fix = "See LK402-LK404 for the layer that fails."


async def _read_signal(ws: "aiohttp.ClientWebSocketResponse", result: Join, timeout: float, start: float) -> None:
    import asyncio

    import aiohttp
    from livekit.protocol import rtc as proto

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            msg = await ws.receive(timeout=CANDIDATE_QUIET_S if result.ok else deadline - time.monotonic())
        except asyncio.TimeoutError:
            break
        if msg.type != aiohttp.WSMsgType.BINARY:
            break
        response = proto.SignalResponse()
        response.ParseFromString(msg.data)
        kind = response.WhichOneof("message")
        if kind == "join":
            info = response.join.server_info
            result.ok, result.join_ms = True, round((time.perf_counter() - start) * 1000, 1)
            result.server = {"version": info.version, "protocol": info.protocol, "region": info.region,
                             "node_id": info.node_id}
            result.ice_servers = [u for server in response.join.ice_servers for u in server.urls]
            result.turn_credentials = [(list(server.urls), server.username, server.credential)
                                       for server in response.join.ice_servers if server.credential]
        elif kind == "trickle":
            candidate = parse_candidate(json.loads(response.trickle.candidateInit or "{}").get("candidate", ""))
            if candidate:
                result.candidates.append(candidate)
        elif kind == "leave":
            break
    if not result.ok:
        result.kind = "no-join-response"
        result.cause = f"no JoinResponse within {timeout:g} s after the WebSocket opened"
        result.fix = "Read the server's log; a proxy may buffer WebSocket frames."
