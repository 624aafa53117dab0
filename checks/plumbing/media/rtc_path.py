"""One rtc participant held to one network path (relay only, one TURN server, ICE/TCP only) or whose
session is resumed and rejoined at the signal level, in a `doctor-net-` room of its own.

Connecting proves the path: the rtc SDK's connect returns only once the signal AND the ICE + DTLS
connection are up, so a participant connected over a relay candidate has exchanged packets both
ways through the relay; its selected pair names the path and the pair's round-trip time.
A blocked path is concluded at the deadline (well under 5 s), not after the SDK's retry cycle.
Cleanup is guaranteed: the participant leaves and the room is deleted, also when cancelled.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.network.ice_path import Path, selected_path
from livekit_doctor.checks.plumbing.server.server_api import twirp
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import net_timeout, target
from livekit_doctor.checks.plumbing.server.tokens import admin_grants, join_grants, mint
from livekit_doctor.plugin import Context

PATH_DEADLINE = 3.5  # seconds for one path's connect (ICE on a working path takes well under 1 s)
RESUME_DEADLINE = 3.0  # seconds for the server's first answer to a resume or a rejoin (~10-50 ms when healthy)
PRIVATE_CA_UNSEEN = ("not tested: the rtc SDK verifies wss:// only against its built-in public CAs, which do not "
                     "include the private CA given with --ca-file (LK403-LK405 verified the server with it)")


def private_ca_unseen(ctx: Context, cause: str) -> bool:
    """The rtc SDK refused a certificate that --ca-file vouches for: the SDK cannot be given that CA."""
    return bool(wing_options(ctx).ca_file) and "UnknownIssuer" in cause


@dataclass
class Outcome:
    ok: bool = False
    cause: str = ""
    path: Path | None = None
    facts: dict[str, Any] = field(default_factory=dict)


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


async def _path_of(room: Any) -> Path | None:
    stats = await room.get_rtc_stats()
    return selected_path(list(stats.publisher_stats)) or selected_path(list(stats.subscriber_stats))


async def _waiter(room: Any, names: tuple[str, ...]) -> Callable[[], Any]:
    """A function returning a future for the next of these room events (registered before it can fire)."""
    import asyncio

    box: dict[str, asyncio.Future[str]] = {}

    def arm() -> asyncio.Future[str]:
        box["f"] = asyncio.get_running_loop().create_future()
        return box["f"]

    for name in names:
        room.on(name, lambda *_, n=name: box.get("f") and not box["f"].done() and box["f"].set_result(n))
    return arm


async def _in_room(ctx: Context, identity: str, body: Callable[[Any, str, str, str], Any]) -> Outcome:
    """Run `body(room, url, token, room_name)` with a fresh rtc.Room; always leave and delete the room."""
    import asyncio

    from livekit import rtc

    import logging

    sdk_log = logging.getLogger("livekit")  # the SDK logs each reconnect step: the result says what matters
    if not sdk_log.handlers:
        sdk_log.addHandler(logging.NullHandler())
    s = livekit_settings(ctx)
    t = target(ctx)
    room_name = f"doctor-net-{secrets.token_hex(4)}"
    token = mint(s.api_key, s.api_secret, identity=identity, video=join_grants(room_name))
    room = rtc.Room()
    try:
        return await body(room, t.ws_base, token, room_name)
    finally:
        await asyncio.shield(_cleanup(ctx, room, room_name))


async def _cleanup(ctx: Context, room: Any, room_name: str) -> None:
    """Leave, then delete the room; a join the SDK could not cancel may re-create it, so repeat while pending."""
    import asyncio

    s = livekit_settings(ctx)
    pending = not room.isconnected()
    try:
        await asyncio.wait_for(room.disconnect(), 3)
    except Exception:  # never connected, or already gone
        pass
    admin = mint(s.api_key, s.api_secret, identity="livekit-doctor", video=admin_grants(room_name))
    async with await client_session(ctx) as http:
        for attempt in range(2 if pending else 1):
            if attempt:
                await asyncio.sleep(0.5)
            try:
                await asyncio.wait_for(twirp(http, target(ctx).http_base, admin, "DeleteRoom", {"room": room_name}),
                                       net_timeout(ctx))
            except Exception:  # the server expires an empty room by itself
                pass


async def _connect(room: Any, url: str, token: str, options: Any, out: Outcome) -> bool:
    """Connect within PATH_DEADLINE (signal and media); on failure the cause is in `out`."""
    import asyncio

    from livekit import rtc

    start = time.perf_counter()
    try:
        await asyncio.wait_for(room.connect(url, token, options), PATH_DEADLINE)
    except asyncio.TimeoutError:
        out.cause = f"no media connection within {PATH_DEADLINE:g} s"
        return False
    except rtc.ConnectError as exc:
        out.cause = f"the SDK gave up: {exc}"
        return False
    out.facts["connect_ms"] = _ms(start)
    return True


async def connect_path(ctx: Context, label: str, options: Any, *, force_tcp: bool = False) -> Outcome:
    """Connect one participant with these rtc.RoomOptions; with `force_tcp`, then make the server offer only
    its ICE/TCP candidates (the SDK's force-TCP scenario: an ICE restart) and wait for the media to move."""
    import asyncio

    from livekit import rtc

    async def body(room: Any, url: str, token: str, _: str) -> Outcome:
        out = Outcome()
        if not await _connect(room, url, token, options, out):
            return out
        if force_tcp:
            arm = await _waiter(room, ("reconnected", "disconnected"))
            done = arm()
            start = time.perf_counter()
            await room.simulate_scenario(rtc.SimulateScenarioKind.SIMULATE_FORCE_TCP)
            try:
                event = await asyncio.wait_for(done, PATH_DEADLINE)
            except asyncio.TimeoutError:
                out.cause = f"the media did not reconnect over ICE/TCP within {PATH_DEADLINE:g} s"
                return out
            if event == "disconnected":
                out.cause = "the SDK disconnected when the server offered only ICE/TCP"
                return out
            out.facts["tcp_switch_ms"] = _ms(start)
        out.path = await _path_of(room)
        out.ok = True
        return out

    return await _in_room(ctx, f"doctor-net-{label}", body)


async def resume_session(ctx: Context) -> Outcome:
    """Connect a participant (a session the server keeps), then resume it over the doctor's own WebSocket as a
    client whose socket dropped would, then a full reconnect (the same token, a new join): plumbing/server/signal_resume.py."""
    from livekit import rtc

    from livekit_doctor.checks.plumbing.server.signal_resume import first_answer, signal_url

    async def body(room: Any, url: str, token: str, _: str) -> Outcome:
        out = Outcome()
        if not await _connect(room, url, token, rtc.RoomOptions(), out):
            return out
        sid = room.local_participant.sid
        timeout = min(net_timeout(ctx), RESUME_DEADLINE)
        async with await client_session(ctx, total=None) as http:
            resume = await first_answer(http, signal_url(url, token, sid), timeout)
            full = await first_answer(http, signal_url(url, token), timeout)
        out.facts |= {"sid": sid, "resume": asdict(resume), "full_reconnect": asdict(full)}
        out.ok = True
        return out

    return await _in_room(ctx, "doctor-net-reconnect", body)
