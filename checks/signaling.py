"""LK405-LK406: a real WebSocket join on /rtc, and the media transports the server offers.

One join is shared by both checks: the JoinResponse (server version, protocol, node, ICE
servers) and the ICE candidates the server trickles right after it. The room it joins is
deleted afterwards so that no `doctor-` room is left behind.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks import DOCS_DIR  # noqa: F401  (where explain finds this module's pages)
from livekit_doctor.checks.imports import import_off_loop
from livekit_doctor.checks.reachability import tls
from livekit_doctor.checks.settings import livekit_settings
from livekit_doctor.checks.target import Target, address_kind, net_timeout, ssl_context, target
from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.result import Result, failed, passed, skipped, warned

if TYPE_CHECKING:
    import aiohttp

PROTOCOL = 16  # the signal protocol version the doctor speaks (servers answer with theirs)
CANDIDATE_QUIET_S = 0.15  # stop listening for trickled candidates after this much silence


@dataclass
class Join:
    ok: bool = False
    cause: str = ""
    fix: str = ""
    join_ms: float = 0.0
    server: dict[str, Any] = field(default_factory=dict)
    ice_servers: list[str] = field(default_factory=list)
    candidates: list[dict[str, Any]] = field(default_factory=list)
    room: str = ""


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

        from livekit_doctor.checks.tokens import admin_grants, join_grants, mint

        s = livekit_settings(ctx)
        key, secret = s.api_key.strip(), s.api_secret.strip()
        room = f"doctor-signal-{secrets.token_hex(4)}"
        token = mint(key, secret, identity="livekit-doctor-signal", video=join_grants(room))
        ws_url = f"{t.ws_base}/rtc?access_token={token}&protocol={PROTOCOL}&auto_subscribe=0&sdk=python&version=doctor"
        timeout = net_timeout(ctx)
        result = Join(room=room)
        admin = mint(key, secret, identity="livekit-doctor", video=admin_grants(room))
        twirp = f"{t.http_base}/twirp/livekit.RoomService"
        auth = {"Authorization": f"Bearer {admin}"}
        tls_context = ssl_context(ctx) if t.tls else None
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            async def room_call(method: str, body: dict[str, Any]) -> None:
                try:
                    async with session.post(f"{twirp}/{method}", json=body, headers=auth, ssl=tls_context,
                                            timeout=aiohttp.ClientTimeout(total=timeout)):
                        pass
                except (aiohttp.ClientError, OSError, asyncio.TimeoutError):
                    pass  # CreateRoom: the join reports what is wrong; DeleteRoom: the server expires it

            # create the room first: servers with room.auto_create off refuse to join a missing one
            await room_call("CreateRoom", {"name": room, "empty_timeout": 10})
            try:
                await _join(ws_url, session, tls_context, timeout, result)
            finally:  # even when cancelled (Ctrl-C, run timeout): no doctor- room is left behind
                await asyncio.shield(room_call("DeleteRoom", {"room": room}))
        return result

    return await ctx.amemo("net.signal", join)


async def _join(url: str, session: "aiohttp.ClientSession", tls_context: Any, timeout: float, result: Join) -> None:
    """Open /rtc, read the JoinResponse and the candidates trickled after it, into `result`."""
    import asyncio

    import aiohttp

    from livekit_doctor.checks.server_auth import classify

    start = time.perf_counter()
    try:
        async with session.ws_connect(url, ssl=tls_context, timeout=aiohttp.ClientWSTimeout(ws_close=1)) as ws:
            await _read_signal(ws, result, timeout, start)
    except aiohttp.WSServerHandshakeError as exc:
        why = classify(exc.status, exc.message or "")
        result.cause = f"WebSocket upgrade on /rtc refused: HTTP {exc.status}" + (
            f" ({why.cause})" if exc.status in (401, 403) else "")
        result.fix = why.fix if exc.status in (401, 403) else (
            "The proxy in front of the server must forward /rtc with the Upgrade and Connection headers "
            "(nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; ...Connection \"upgrade\").")
    except asyncio.TimeoutError:
        result.cause = f"the WebSocket did not open within {timeout:g} s"
        result.fix = "Check that the proxy forwards WebSocket upgrades to port 7880."
    except (aiohttp.ClientError, OSError) as exc:
        result.cause = f"WebSocket connection failed: {type(exc).__name__}: {exc}"
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
        elif kind == "trickle":
            candidate = parse_candidate(json.loads(response.trickle.candidateInit or "{}").get("candidate", ""))
            if candidate:
                result.candidates.append(candidate)
        elif kind == "leave":
            break
    if not result.ok:
        result.cause = f"no JoinResponse within {timeout:g} s after the WebSocket opened"
        result.fix = "Read the server's log; a proxy may buffer WebSocket frames."


async def _joined(ctx: Context) -> Join | Result:
    t = target(ctx)
    s = livekit_settings(ctx)
    if t is None or not (s.api_key and s.api_secret):
        return skipped("no usable URL, key and secret (see LK201-LK203)")
    if t.tls and not (await tls(ctx, t)).ok:
        return skipped("skipped: the TLS handshake failed (LK403)")
    return await signal_join(ctx, t)


@check("LK405", "Signal connection", area="reachability", needs=("LK404", "LK204"), timeout=20)
async def signal_check(ctx: Context) -> Result:
    """A real WebSocket join on /rtc with a fresh token: server version, protocol, node, ICE servers."""
    j = await _joined(ctx)
    if isinstance(j, Result):
        return j
    facts = {"join_ms": j.join_ms, "server": j.server, "ice_servers": j.ice_servers}
    if not j.ok:
        return failed(j.cause, fix=j.fix, facts=facts)
    stun = [u for u in j.ice_servers if u.startswith("stun")]
    turn = [u for u in j.ice_servers if u.startswith("turn")]
    ice = f"{len(stun)} STUN, {len(turn)} TURN server{'s' if len(turn) != 1 else ''}"
    where = j.server.get("region") or j.server.get("node_id")
    return passed(f"joined in {j.join_ms:.1f} ms: LiveKit {j.server.get('version')} (protocol "
                  f"{j.server.get('protocol')}, {where}); {ice}", facts=facts)


@check("LK406", "Media transports offered", area="reachability", needs=("LK405",), timeout=20)
async def transports_check(ctx: Context) -> Result:
    """Which UDP/TCP ports and addresses clients are offered, TURN, and node IPs clients cannot reach."""
    j = await _joined(ctx)
    if isinstance(j, Result):
        return j
    t = target(ctx)
    udp = sorted({(c["address"], c["port"]) for c in j.candidates if c["protocol"] == "udp"})
    tcp = sorted({(c["address"], c["port"]) for c in j.candidates if c["protocol"] == "tcp"})
    turn = [u for u in j.ice_servers if u.startswith("turn")]
    facts = {"udp": [f"{a}:{p}" for a, p in udp], "tcp": [f"{a}:{p}" for a, p in tcp], "turn": turn}
    offered = [f"UDP {', '.join(f'{a}:{p}' for a, p in udp)}" if udp else "",
               f"ICE/TCP {', '.join(f'{a}:{p}' for a, p in tcp)}" if tcp else "",
               f"TURN {', '.join(turn)}" if turn else ""]
    summary = "; ".join(o for o in offered if o)
    if not j.candidates and not turn:
        return failed("the server offered no ICE candidates and no TURN: clients cannot send media",
                      fix="Check rtc.udp_port / rtc.port_range_start-end and rtc.tcp_port in the server config.",
                      facts=facts)
    url_kind = _host_kind(t.host) if t else "public"
    addresses = {a for a, _ in udp + tcp}
    reachable = {a for a in addresses if _rank(address_kind(a)) >= _rank(url_kind)}
    if url_kind != "loopback" and not reachable and not turn:
        kinds = ", ".join(sorted({address_kind(a) for a in addresses}))
        return failed(f"the server advertises only {kinds} addresses ({', '.join(sorted(addresses))}) while the URL "
                      f"is {url_kind}: clients elsewhere will connect signalling but never media", facts=facts,
                      fix="Set rtc.use_external_ip: true (or rtc.node_ip to the public address) and open UDP "
                          f"{'/'.join(str(p) for _, p in udp) or '50000-60000'} and TCP "
                          f"{'/'.join(str(p) for _, p in tcp) or '7881'}; or configure TURN.")
    if not turn and url_kind == "public":
        return warned(f"{summary}; no TURN: clients behind strict firewalls will fail", facts=facts,
                      fix="Enable the embedded TURN server (turn.enabled with TLS on 443) or configure an external one.")
    return passed(summary, facts=facts)


def _host_kind(host: str) -> str:
    import ipaddress

    from livekit_doctor.checks.credentials import is_loopback_host

    if is_loopback_host(host):
        return "loopback"
    try:
        return address_kind(str(ipaddress.ip_address(host)))
    except ValueError:
        return "public"  # a DNS name: assume clients come from anywhere


def _rank(kind: str) -> int:
    return {"loopback": 0, "private": 1, "public": 2}[kind]


CHECKS = [signal_check, transports_check]
