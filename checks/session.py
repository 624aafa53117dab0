"""LK501: a whole session with real audio: create a room, two participants, a tone, data, cleanup.

Cleanup is guaranteed: whatever happens (a failed step, the check's timeout, Ctrl-C, or a lower
layer failing while it runs speculatively), the participants disconnect and the `doctor-` room is
deleted before the check returns.

The check is speculative: it starts with the run, while DNS, TCP, HTTP, the signal join and the
server's token verdict are checked, so importing the rtc SDK and connecting overlap them; if one
of them fails it is cancelled and skipped as if it had waited.
"""

from __future__ import annotations

import array
import secrets
import time
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.network.ice_path import selected_path
from livekit_doctor.checks.plumbing.media.media_health import GONE_FIX, STARVED_FIX, LagMeter, server_gone
from livekit_doctor.checks.plumbing.media.rtc_path import PRIVATE_CA_UNSEEN, private_ca_unseen
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import net_timeout, proxy_variable, target
from livekit_doctor.checks.plumbing.network.causes import UNREACHABLE
from livekit_doctor.checks.plumbing.server.tokens import join_grants, mint
from livekit_doctor.checks.plumbing.media.tone import SAMPLE_RATE, TONE_HZ, estimate_frequency, rms, tone_frames
from livekit_doctor.plugin import Context, Result, Status, check, code, failed, import_off_loop, noted, passed, skipped

if TYPE_CHECKING:
    from livekit import api as lkapi

TONE_TOLERANCE = 0.06  # relative: the jitter buffer time-stretches under load (4 % seen); 44.1 vs 48 kHz is 8 %
SETTLE_MS = 60  # skipped after the first audible frame: the codec ramps up
ANALYSE_MS = 200  # audio analysed after that
MEDIA_TIMEOUT = 10.0  # seconds for media steps (ICE over UDP/TCP normally takes well under 1 s)


CONNECT_A, CONNECT_B = "participant A connects (signal + media)", "participant B connects (signal + media)"
MEDIA_STEPS = (CONNECT_A, CONNECT_B, "publish audio", "B subscribes to A's audio", "B receives audio")


class StepFailed(Exception):
    def __init__(self, step: str, cause: str) -> None:
        super().__init__(f"{step}: {cause}")
        self.step, self.cause = step, cause


class Timeline:
    """Elapsed milliseconds per step since the start, for the facts and the report."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.ms: dict[str, float] = {}
        self.requested = self.created = self.joining = False  # CreateRoom sent, answered; a connect started

    def mark(self, name: str) -> float:
        self.ms[name] = round((time.perf_counter() - self.start) * 1000, 1)
        return self.ms[name]


async def _step(name: str, awaitable: Any, timeout: float) -> Any:
    import asyncio

    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise StepFailed(name, f"no result within {timeout:g} s") from None


TCP_STATES = {"refused": "refuses connections (the port is closed)", "timeout": "does not answer (a firewall drops it)",
              "unreachable": "is unreachable (no route)", "open": "accepts TCP (ICE over it still failed)"}


async def media_blocked(ctx: Context, what: str) -> str:
    """What blocks media, port by port: the UDP ports ICE tried (no answer) and each ICE/TCP port probed now."""
    import asyncio

    from livekit_doctor.checks.plumbing.network.ice_path import reach_tcp

    transports = ctx.results.get("LK406")
    facts = transports.facts if transports is not None else {}
    udp, tcp = facts.get("udp", []), facts.get("tcp", [])
    states = await asyncio.gather(*(reach_tcp(ctx, a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1]), 1.0) for a in tcp))
    parts = [f"ICE over UDP {', '.join(udp)} got no answer" if udp else "the server offers no UDP candidate"]
    parts += [f"TCP {a} {TCP_STATES[state]}" for a, state in zip(tcp, states)] or ["no ICE/TCP candidate is offered"]
    turn = "TURN is configured" if facts.get("turn") else "no TURN server is configured"
    return f"signalling works (LK405) but media does not: {what}; " + "; ".join(parts) + f"; {turn}"


def media_hint(ctx: Context) -> str:
    """The fix when signalling works and media does not, with the ports involved."""
    transports = ctx.results.get("LK406")
    facts = transports.facts if transports is not None else {}
    udp = "/".join(sorted({a.rsplit(":", 1)[1] for a in facts.get("udp", [])})) or "50000-60000 (rtc.port_range_start-end)"
    tcp = "/".join(sorted({a.rsplit(":", 1)[1] for a in facts.get("tcp", [])})) or "7881 (rtc.tcp_port)"
    return (f"Open UDP {udp} and TCP {tcp} between the clients and the server (firewall, security group, Docker port "
            "mappings); if the advertised address is wrong, set rtc.node_ip (or use_external_ip: true); configure TURN "
            "for clients behind strict firewalls.")


async def _cleanup(api: "lkapi.LiveKitAPI", rooms: list[Any], room_name: str, facts: dict[str, Any],
                   t: Timeline) -> None:
    """Disconnect both participants and delete the room; runs even when the check is cancelled.

    The rtc SDK cannot cancel a join in flight: one that lands after DeleteRoom re-creates the
    room (auto-create), so while a connect may still be pending the deletion is repeated. When
    CreateRoom was never sent there is nothing to delete (a lower layer failed first).
    """
    import asyncio

    from livekit import api as lk

    if not t.requested:
        facts["room_deleted"] = True
        await api.aclose()
        return
    # CreateRoom unanswered and nobody joined (the server is unreachable or paused): one short try;
    # a room it may still create stays empty and the server drops it after its empty_timeout.
    wait = 5 if t.created or t.joining else 0.5
    pending_join = t.joining and not all(room.isconnected() for room in rooms)
    for room in rooms:
        try:
            await asyncio.wait_for(room.disconnect(), 3)
        except Exception:  # a participant that never connected or already left
            pass
    try:
        for attempt in range(4 if pending_join else 1):
            if attempt:
                await asyncio.sleep(0.5)
            listed = await asyncio.wait_for(api.room.list_rooms(lk.ListRoomsRequest(names=[room_name])), wait)
            if listed.rooms:
                await asyncio.wait_for(api.room.delete_room(lk.DeleteRoomRequest(room=room_name)), wait)
        listed = await asyncio.wait_for(api.room.list_rooms(lk.ListRoomsRequest(names=[room_name])), wait)
        facts["room_deleted"] = not listed.rooms
    except Exception as exc:  # reported, never raised: the check's own verdict matters more
        facts["room_deleted"] = False
        facts["cleanup_error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await api.aclose()


async def _session(ctx: Context, api: "lkapi.LiveKitAPI", rooms: list[Any], room_name: str, t: Timeline,
                   facts: dict[str, Any]) -> None:
    import asyncio

    from livekit import api as lk
    from livekit import rtc

    s = livekit_settings(ctx)
    url, key, secret = target(ctx).ws_base, s.api_key, s.api_secret
    step_timeout = net_timeout(ctx)

    t.requested = True
    await _step("create room", api.room.create_room(lk.CreateRoomRequest(name=room_name, empty_timeout=30)),
                step_timeout)
    t.created = True
    listed = await _step("list rooms", api.room.list_rooms(lk.ListRoomsRequest(names=[room_name])), step_timeout)
    if not listed.rooms:
        raise StepFailed("list rooms", "the room just created is not listed")
    t.mark("room_created_ms")

    a, b = rooms
    subscribed: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    b.on("track_subscribed", lambda track, *_: subscribed.done() or subscribed.set_result(track))
    # the SDK's connect returns once signalling AND the media (ICE) connection are up
    t.joining = True
    await _step(CONNECT_A, a.connect(url, mint(key, secret, identity="doctor-a", video=join_grants(room_name))),
                MEDIA_TIMEOUT)
    t.mark("signal_connect_ms")

    source = rtc.AudioSource(SAMPLE_RATE, 1)
    track = rtc.LocalAudioTrack.create_audio_track("doctor-tone", source)
    frames = tone_frames()

    async def play() -> None:
        while True:
            samples = next(frames)
            await source.capture_frame(rtc.AudioFrame(samples.tobytes(), SAMPLE_RATE, 1, len(samples)))

    player = asyncio.create_task(play())
    try:
        await _step("publish audio", a.local_participant.publish_track(
            track, rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)), MEDIA_TIMEOUT)
        t.mark("media_connected_ms")
        await _step(CONNECT_B, b.connect(url, mint(key, secret, identity="doctor-b", video=join_grants(room_name))),
                    MEDIA_TIMEOUT)
        remote = await _step("B subscribes to A's audio", asyncio.shield(subscribed), MEDIA_TIMEOUT)
        t.mark("subscribed_ms")
        received = array.array("h")
        stream = rtc.AudioStream(remote, sample_rate=SAMPLE_RATE, num_channels=1)

        async def listen() -> None:
            async for event in stream:
                chunk = array.array("h", bytes(event.frame.data))
                if not received and rms(chunk) < 500:  # jitter-buffer silence before the tone arrives
                    continue
                if not received:
                    t.mark("first_audio_frame_ms")
                received.extend(chunk)
                if len(received) >= SAMPLE_RATE * (SETTLE_MS + ANALYSE_MS) // 1000:
                    return

        try:
            await _step("B receives audio", listen(), MEDIA_TIMEOUT)
        finally:
            await stream.aclose()
    finally:
        player.cancel()
        await source.aclose()  # its native audio queue: left open, the process spun on it at exit
    heard = estimate_frequency(received[SAMPLE_RATE * SETTLE_MS // 1000:])
    facts["tone_hz"], facts["heard_hz"] = TONE_HZ, round(heard, 1)
    if abs(heard - TONE_HZ) > TONE_HZ * TONE_TOLERANCE:
        raise StepFailed("B receives audio", f"heard {heard:.0f} Hz instead of the {TONE_HZ:.0f} Hz tone")

    pong: asyncio.Future[float] = asyncio.get_running_loop().create_future()

    def on_data(packet: Any) -> None:
        text = bytes(packet.data).decode(errors="replace")
        if text.startswith("ping:") and packet.participant and packet.participant.identity == "doctor-a":
            asyncio.ensure_future(b.local_participant.publish_data("pong:" + text[5:], topic="doctor"))
        elif text.startswith("pong:") and not pong.done():
            pong.set_result(float(text[5:]))

    a.on("data_received", on_data)
    b.on("data_received", on_data)
    with ctx.measuring():
        sent = time.perf_counter()
        await a.local_participant.publish_data(f"ping:{sent}", topic="doctor")
        await _step("data message A -> B -> A", asyncio.shield(pong), step_timeout)
        facts["data_rtt_ms"] = round((time.perf_counter() - sent) * 1000, 1)

    try:  # best effort: which ICE transport the media took, as the SDK reports it
        path = selected_path(list((await a.get_rtc_stats()).publisher_stats))
        facts["transport"], facts["path"] = (path.describe(), path.kind) if path else (None, None)
    except Exception:  # stats are informational; an SDK without them must not fail the check
        facts["transport"] = facts["path"] = None
    participants = await _step("list participants", api.room.list_participants(
        lk.ListParticipantsRequest(room=room_name)), step_timeout)
    identities = sorted(p.identity for p in participants.participants)
    if identities != ["doctor-a", "doctor-b"]:
        raise StepFailed("list participants", f"the server lists {identities or 'nobody'}, not doctor-a and doctor-b")


async def _not_the_network(ctx: Context, api: "lkapi.LiveKitAPI", room_name: str, dropped: list[str],
                           meter: LagMeter, what: str) -> tuple[str, str] | None:
    """(code, summary, fix) when the media failure has a cause other than the network: the server went away
    (killed, stopped, restarted) or this machine was starved of CPU; None otherwise."""
    from livekit import api as lk

    async def same_room() -> bool:
        # A reconnecting client can bring a restarted server's room back: a dropped connection says more.
        rooms = (await api.room.list_rooms(lk.ListRoomsRequest(names=[room_name]))).rooms
        return bool(rooms) and not dropped

    where = target(ctx)
    gone = await server_gone(ctx, where, same_room) if where is not None else ""
    if gone:
        return "server-gone", f"{what}: {gone}", GONE_FIX
    if meter.starved:
        return "starved", f"{what}: {meter.describe()}", STARVED_FIX
    return None


def _through_proxy(ctx: Context, what: str) -> tuple[str, str, str] | None:
    """A failed session with the proxy variable the rtc SDK follows for this scheme: it connects through it
    (the doctor's own HTTP and signalling checks do not), so that variable is what to fix."""
    t = target(ctx)
    found = proxy_variable(ctx.env, t.scheme) if t is not None else None
    if found is None:
        return None
    name, proxy = found
    exempt = ctx.env.get("NO_PROXY") or ctx.env.get("no_proxy")
    ignored = f" (NO_PROXY={exempt} does not change that: the rtc SDK ignores it)" if exempt else ""
    return ("proxy-variable", f"{what}; {name} is set (a proxy at {proxy}): the rtc SDK sends the session through "
            f"that proxy{ignored}",
            f"Unset {name} in the environment that runs the app and the rtc SDK (`unset {name}`, and remove it from "
            "the service's environment), or make that proxy forward WebSocket connections to the server: the livekit "
            "rtc SDK does not honour NO_PROXY.")


MEDIA_SHAPES = ("LK406.no-candidates", "LK406.unreachable-addresses", "LK705.advertised-unreachable",
                "LK705.advertised-untested")


@check("LK501", "Media round-trip", area=Area.SESSION, needs=("LK205", "LK405"), after=("LK406",), timeout=40,
       speculative=True, codes=(
           code("media-blocked", "signalling works but media does not connect: the UDP port or range and ICE/TCP are "
                                 "blocked between here and the server, or no TURN", explained_by=MEDIA_SHAPES),
           code("proxy-variable", "the session fails and the proxy variable the rtc SDK follows for the URL's scheme "
                                  "is set (HTTP_PROXY for ws://, HTTPS_PROXY for wss://; it ignores NO_PROXY)"),
           code("server-gone", "the server went away (killed, stopped, restarted) during the session"),
           code("starved", "this machine was starved of CPU during the session", explained_by=("LK002.cpu-starved",)),
           code("session-failed", "a step before media failed (the room, the token, the SDK's connect)",
                explained_by=(*UNREACHABLE, "LK205.wrong-secret", "LK205.unknown-key", "LK205.permission-denied",
                              "LK205.not-yet-valid", "LK205.expired")),
           code("room-not-deleted", "the session worked but its room could not be deleted"),
       ))
async def round_trip(ctx: Context) -> Result:
    """Two participants in a fresh room: a 440 Hz tone from A heard by B, a data round-trip, cleanup."""
    try:
        await import_off_loop("livekit.api", "livekit.rtc")
        from livekit import api as lk
        from livekit import rtc
    except ImportError:
        return skipped("the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]' (or: pip install livekit) "
                       "in the doctor's environment")
    s = livekit_settings(ctx)
    room_name = f"doctor-{secrets.token_hex(4)}"
    timeline = Timeline()
    facts: dict[str, Any] = {"room": room_name}
    http = await client_session(ctx, total=None)  # the wing's client: --ca-file trusted like every other check
    api = lk.LiveKitAPI(url=target(ctx).http_base, api_key=s.api_key, api_secret=s.api_secret, session=http)
    rooms = [rtc.Room(), rtc.Room()]
    dropped: list[str] = []  # signal connections the SDK lost mid-check: the server restarted or went away
    for room in rooms:
        room.on("reconnecting", lambda: dropped.append("reconnecting"))
        room.on("disconnected", lambda *_: dropped.append("disconnected"))
    problem: tuple[str, str, str] | None = None  # (code, summary, fix)
    meter = LagMeter().start()
    try:
        await _session(ctx, api, rooms, room_name, timeline, facts)
    except StepFailed as exc:
        await ctx.settled("LK405", "LK406")  # started speculatively: the layers below may still be running
        signal_ok = getattr(ctx.results.get("LK405"), "status", None) is Status.PASS
        if exc.step in MEDIA_STEPS and signal_ok:
            what = f"{exc.step} failed: {exc.cause}"
            problem = await _not_the_network(ctx, api, room_name, dropped, meter, what) or _through_proxy(ctx, what) or (
                "media-blocked", await media_blocked(ctx, what), media_hint(ctx))
        else:
            problem = _through_proxy(ctx, f"{exc.step} failed: {exc.cause}") or (
                "session-failed", f"{exc.step} failed: {exc.cause}", "See LK205 for tokens and LK405 for signalling.")
    except (rtc.ConnectError, lk.TwirpError) as exc:
        what = f"{type(exc).__name__}: {exc}"
        problem = await _not_the_network(ctx, api, room_name, dropped, meter, what) or _through_proxy(ctx, what) or (
            "session-failed", what, "See LK205 (tokens) and LK405 (signalling) for the cause.")
    finally:
        import asyncio

        meter.stop()
        await asyncio.shield(_cleanup(api, rooms, room_name, facts, timeline))
        await http.close()  # LiveKitAPI closes only a session it made
        timeline.mark("total_ms")
    facts |= timeline.ms
    if problem and private_ca_unseen(ctx, problem[1]):
        return skipped(PRIVATE_CA_UNSEEN, facts=facts)
    if problem:
        return failed(problem[1], code=problem[0], fix=problem[2], facts=facts)
    if not facts.get("room_deleted"):
        return noted(f"the session worked but room {room_name} could not be deleted: {facts.get('cleanup_error')}",
                      facts=facts, code="room-not-deleted", fix="Check that the key has roomCreate rights (DeleteRoom).")
    return passed(
        f"{TONE_HZ:.0f} Hz tone heard as {facts['heard_hz']:.0f} Hz; signal {facts['signal_connect_ms']:.0f} ms, "
        f"media {facts['media_connected_ms']:.0f} ms, first audio {facts['first_audio_frame_ms']:.0f} ms, "
        f"data RTT {facts['data_rtt_ms']:.1f} ms" + (f"; media over {facts['transport']}" if facts.get("transport") else "")
        + "; room deleted", facts=facts)


CHECKS = [round_trip]
