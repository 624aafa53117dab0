"""Dispatch a voice agent to a fresh `doctor-` room, watch it join and publish, talk to it, clean up.

The server's own record is read where it has one: ListDispatch shows the dispatch and the job
a worker accepted (v1.13 keeps the state of the assignment; a job that later fails still reads
"running", so an agent that never joins is judged by its absence). A dispatch no worker took
has no job at all: local workers' health endpoints (`/worker`) then tell "nobody registered
under that name" from "registered, but not taking jobs".

Cleanup is guaranteed: whatever happens (a failed step, the check's timeout, Ctrl-C), the
doctor leaves, its dispatch and its room are deleted (which ends the agent's job).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks.plumbing.agents.agent_presence import POLL, participants, server_ms, watch_leave
from livekit_doctor.checks.plumbing.agents.agent_turns import Mic, talk
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import net_timeout, target
from livekit_doctor.checks.plumbing.server.tokens import join_grants, mint
from livekit_doctor.plugin import Context, import_off_loop

if TYPE_CHECKING:
    import asyncio

    from livekit import api as lkapi

JOB_WAIT = 5.0  # s for a worker to accept the job (healthy, local: ~0.3 s)
JOIN_WAIT = 10.0  # s from the accepted job to the agent in the room (a job process may have to start)
TRACK_WAIT = 5.0  # s from joining to its first published track
RETRY_AFTER = 1.0  # s before the second dispatch to a worker that was full
AGENT_KIND = 4  # ParticipantInfo.Kind AGENT
AGENT_NAME_ATTRIBUTE = "lk.agent.name"

# causes, in the order a dispatch can fail
NO_JOB, JOB_FAILED, LEFT, SILENT = "no job", "job failed", "joined and left", "publishes nothing"


class SetupFailed(Exception):
    """The doctor's own part (room, connection, dispatch call) failed: not the agent's fault."""


@dataclass
class AgentRun:
    room: str
    agent_name: str  # "" = automatic dispatch
    cause: str | None = None  # None: the agent joined and published
    detail: str = ""
    ms: dict[str, float] = field(default_factory=dict)  # dispatched, job, joined, first_track (since the dispatch)
    job: dict[str, Any] = field(default_factory=dict)
    identity: str | None = None
    tracks: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    turns: int = 0
    answer_problem: str | None = None
    answer_cause: str | None = None  # agent_turns: NO_AUDIO_TRACK, LEFT_WHILE_LISTENING, NO_ANSWER
    setup_error: str | None = None
    first_dispatch_lost: bool = False  # a local worker of that name took no job at first, then the second one
    local_workers: list[dict[str, Any]] = field(default_factory=list)  # what answered on /worker here, if asked
    dispatch_created_ns: int = 0  # the (last) dispatch's creation on the server's clock
    cleanup: dict[str, Any] = field(default_factory=dict)


class _Clock:
    def __init__(self) -> None:
        self.start = time.monotonic()

    def ms(self, at: float | None = None) -> float:
        return round(((at if at is not None else time.monotonic()) - self.start) * 1000, 1)


def _job_facts(dispatches: list[Any], dispatch_id: str | None, lk: Any) -> dict[str, Any]:
    """The first job of our dispatch (automatic dispatch: of the one without a name), as plain data."""
    for dispatch in dispatches:
        if (dispatch_id and dispatch.id != dispatch_id) or (not dispatch_id and dispatch.agent_name):
            continue
        for job in dispatch.state.jobs:
            return {"id": job.id, "status": lk.JobStatus.Name(job.state.status), "error": job.state.error,
                    "participant_identity": job.state.participant_identity, "worker_id": job.state.worker_id}
    return {}


def _is_ours(participant: Any, run: AgentRun) -> bool:
    if participant.kind != AGENT_KIND:
        return False
    if run.job.get("participant_identity"):
        return participant.identity == run.job["participant_identity"]
    named = dict(participant.attributes).get(AGENT_NAME_ATTRIBUTE)
    return named is None or named == run.agent_name


async def _watch_join(api: "lkapi.LiveKitAPI", room: Any, run: AgentRun, clock: _Clock, dispatch_id: str | None,
                      step_timeout: float, arrived: "asyncio.Event",
                      arrivals: dict[str, tuple[float, Any]]) -> str | None:
    """Wait for the agent's participant while reading the job from the server; sets run.cause when it fails.

    The server's list of participants is read too: it shows a participant that publishes nothing to the
    others only in its 3 s batch of updates, so an agent that crashes within 3 s of joining is never shown
    to the doctor's room. Returns the agent's identity."""
    import asyncio

    from livekit import api as lk

    async def read_job() -> dict[str, Any]:
        try:
            listed = await asyncio.wait_for(api.agent_dispatch.list_dispatch(run.room), step_timeout)
        except (asyncio.TimeoutError, lk.TwirpError):
            return {}
        return _job_facts(list(listed), dispatch_id, lk)

    job_seen = None
    while True:
        seen = [*room.remote_participants.values(), *(p for _, p in arrivals.values())]  # an agent may be gone already
        agent = next((p for p in seen if _is_ours(p, run)), None)
        if agent is not None:
            return str(agent.identity)
        job, present = await asyncio.gather(read_job(), participants(api, run.room, step_timeout))
        if job and not run.job:
            run.ms["job"], job_seen = clock.ms(), time.monotonic()
        run.job = job or run.job
        listed_agent = next((p for p in present or () if _is_ours(p, run)), None)
        if listed_agent is not None:
            if run.dispatch_created_ns and listed_agent.joined_at_ms:
                run.ms["joined"] = round(listed_agent.joined_at_ms - run.dispatch_created_ns / 1e6, 1)
            return str(listed_agent.identity)
        if run.job.get("status") == "JS_FAILED":
            run.cause, run.detail = JOB_FAILED, run.job.get("error") or "the server reports the job failed"
            return None
        if not run.job and time.monotonic() - clock.start > JOB_WAIT:
            run.cause = NO_JOB
            return None
        if job_seen and time.monotonic() - job_seen > JOIN_WAIT:
            run.cause = JOB_FAILED
            run.detail = (f"worker {run.job.get('worker_id')} accepted job {run.job.get('id')} but its agent "
                          f"({run.job.get('participant_identity')}) did not join within {JOIN_WAIT:g} s")
            return None
        try:  # until the next read, or sooner when someone joins
            await asyncio.wait_for(arrived.wait(), POLL)
        except asyncio.TimeoutError:
            pass
        arrived.clear()


async def _session(ctx: Context, api: "lkapi.LiveKitAPI", rooms: list[Any], run: AgentRun, turns: int,
                   dispatch_ids: list[str], worker_ports: tuple[int, ...], rtc_ready: "asyncio.Future[None]") -> None:
    import asyncio

    from livekit import api as lk

    step_timeout = net_timeout(ctx)
    left: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    published: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    departures: dict[str, float] = {}

    def on_left(participant: Any) -> None:
        departures[participant.identity] = time.monotonic()
        if run.identity and participant.identity == run.identity and not left.done():
            left.set_result(departures[participant.identity])

    def on_published(publication: Any, participant: Any) -> None:
        if run.identity and participant.identity == run.identity and not published.done():
            published.set_result(time.monotonic())

    arrivals: dict[str, tuple[float, Any]] = {}  # identity -> (when the doctor saw it join, the participant)
    arrived = asyncio.Event()

    def on_joined(participant: Any) -> None:
        arrivals[participant.identity] = (time.monotonic(), participant)
        arrived.set()

    async def make_room() -> Any:
        """The doctor's rtc room, once the rtc SDK (imported meanwhile) is there; listened to before it connects."""
        await rtc_ready
        from livekit import rtc

        room = rtc.Room()
        room.on("participant_connected", on_joined)
        room.on("participant_disconnected", on_left)
        room.on("track_published", on_published)
        rooms.append(room)
        return room

    mic = Mic()
    try:
        try:
            clock = await _open(ctx, api, make_room, on_joined, run, mic if turns > 0 else None, dispatch_ids,
                                step_timeout)
            run.ms["dispatched"] = clock.ms()
        except (asyncio.TimeoutError, lk.TwirpError) as exc:
            raise SetupFailed(f"{type(exc).__name__}: {exc}" if str(exc) else "no answer in time") from None
        room = rooms[0]
        identity = await _watch_join(api, room, run, clock, dispatch_ids[0] if dispatch_ids else None,
                                     step_timeout, arrived, arrivals)
        if run.cause == NO_JOB and run.agent_name and await _busy_here(run, worker_ports):
            # A worker of that name runs here but was full at that moment (the doctor's own checks load this
            # machine too): that dispatch is lost for good, as an app's would be. Dispatch once more.
            run.cause, run.first_dispatch_lost = None, True
            clock = await _redispatch(api, run, dispatch_ids, step_timeout)
            identity = await _watch_join(api, room, run, clock, dispatch_ids[-1], step_timeout, arrived, arrivals)
        if identity is not None:
            run.identity = identity
            if "joined" not in run.ms:
                run.ms["joined"] = await server_ms(api, run, identity, step_timeout, "joined") or \
                    clock.ms(arrivals[identity][0] if identity in arrivals else None)
            if identity in departures:
                left.set_result(departures[identity])
            await _published_and_talk(api, room, run, clock, turns, mic, published, left, step_timeout)
    finally:
        await mic.close()


async def _open(ctx: Context, api: "lkapi.LiveKitAPI", make_room: Any, on_joined: Any, run: AgentRun,
                mic: Mic | None, dispatch_ids: list[str], step_timeout: float) -> _Clock:
    """Create the room; dispatch while joining it with the microphone on (as a caller's app does): the rtc
    SDK's import and the join overlap the agent's coming. The clock starts at the dispatch (automatic
    dispatch: at the room's creation, which is what dispatches)."""
    import asyncio

    from livekit import api as lk

    s = livekit_settings(ctx)
    clock = _Clock()
    await asyncio.wait_for(api.room.create_room(lk.CreateRoomRequest(name=run.room, empty_timeout=30)), step_timeout)

    async def join() -> None:
        room = await make_room()
        from livekit import rtc  # imported by now

        try:
            await asyncio.wait_for(room.connect(target(ctx).ws_base, mint(
                s.api_key, s.api_secret, identity="doctor-caller", video=join_grants(run.room))), 10)
        except rtc.ConnectError as exc:
            raise SetupFailed(f"ConnectError: {exc}") from None
        for participant in list(room.remote_participants.values()):  # in before us: no participant_connected,
            on_joined(participant)  # and an agent that crashes may be gone before the doctor looks
        if mic is not None:
            await asyncio.wait_for(mic.start(room), 10)

    async def dispatch() -> None:
        dispatch = await asyncio.wait_for(api.agent_dispatch.create_dispatch(lk.CreateAgentDispatchRequest(
            agent_name=run.agent_name, room=run.room)), step_timeout)
        dispatch_ids.append(dispatch.id)
        run.dispatch_created_ns = dispatch.state.created_at

    if run.agent_name:  # the agent takes ~0.4 s to come: the doctor imports rtc and joins meanwhile
        clock = _Clock()
        failures = [r for r in await asyncio.gather(dispatch(), join(), return_exceptions=True) if r is not None]
        if failures:  # both have finished: the cleanup sees every dispatch made
            raise failures[0]
    else:
        await join()
    return clock


async def _busy_here(run: AgentRun, worker_ports: tuple[int, ...]) -> bool:
    from livekit_doctor.checks.plumbing.agents.agent_workers import local_workers

    run.local_workers = [vars(w) for w in await local_workers(worker_ports)]
    return any(w["agent_name"] == run.agent_name for w in run.local_workers)


async def _redispatch(api: "lkapi.LiveKitAPI", run: AgentRun, dispatch_ids: list[str], step_timeout: float) -> _Clock:
    import asyncio

    from livekit import api as lk

    await asyncio.sleep(RETRY_AFTER)
    clock = _Clock()
    dispatch = await asyncio.wait_for(api.agent_dispatch.create_dispatch(lk.CreateAgentDispatchRequest(
        agent_name=run.agent_name, room=run.room)), step_timeout)
    dispatch_ids.append(dispatch.id)
    run.job, run.ms, run.dispatch_created_ns = {}, {"dispatched": clock.ms()}, dispatch.state.created_at
    return clock


async def _published_and_talk(api: "lkapi.LiveKitAPI", room: Any, run: AgentRun, clock: _Clock,
                              turns: int, mic: Mic, published: "asyncio.Future[Any]", left: "asyncio.Future[Any]",
                              step_timeout: float) -> None:
    """The agent is in the room: wait for its first track (or its departure), then talk to it."""
    import asyncio

    from livekit import rtc

    agent = room.remote_participants.get(run.identity)
    if agent is not None and agent.track_publications and not published.done():
        published.set_result(time.monotonic())
    watcher = asyncio.ensure_future(watch_leave(api, run, left, step_timeout))
    try:
        done, _ = await asyncio.wait({published, left}, timeout=TRACK_WAIT, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
    agent = room.remote_participants.get(run.identity)  # one that publishes is shown to the room at once
    if left.done() or (done and agent is None):  # gone, whether or not it published first
        gone = left.result() if left.done() else None
        run.cause, run.detail = LEFT, f"{run.identity} left {clock.ms(gone) - run.ms['joined']:.0f} ms after joining"
        return
    if not done:
        run.cause, run.detail = SILENT, f"{run.identity} joined but published no track within {TRACK_WAIT:g} s"
        return
    run.ms["first_track"] = await server_ms(api, run, run.identity, step_timeout, "first_track") or \
        max(clock.ms(published.result()), run.ms["joined"])
    run.tracks = [f"{'audio' if p.kind == rtc.TrackKind.KIND_AUDIO else 'video'} {p.name!r}"
                  for p in agent.track_publications.values()]
    if turns > 0:
        await talk(room, agent, run, turns, left, mic)


async def _cleanup(api: "lkapi.LiveKitAPI", rooms: list[Any], run: AgentRun, dispatch_ids: list[str]) -> None:
    """Leave, delete the dispatch and the room; runs even when the check is cancelled."""
    import asyncio

    from livekit import api as lk

    for room in rooms:
        try:
            await asyncio.wait_for(room.disconnect(), 3)
        except Exception:  # never connected, or already gone
            pass
    try:
        for dispatch_id in dispatch_ids:
            try:
                await asyncio.wait_for(api.agent_dispatch.delete_dispatch(dispatch_id, run.room), 5)
            except lk.TwirpError:  # the room (and so the dispatch) may not exist any more
                pass
        listed = await asyncio.wait_for(api.room.list_rooms(lk.ListRoomsRequest(names=[run.room])), 5)
        if listed.rooms:
            await asyncio.wait_for(api.room.delete_room(lk.DeleteRoomRequest(room=run.room)), 5)
        listed = await asyncio.wait_for(api.room.list_rooms(lk.ListRoomsRequest(names=[run.room])), 5)
        run.cleanup["room_deleted"] = not listed.rooms
    except Exception as exc:  # reported, never raised: the verdict on the agent matters more
        run.cleanup["room_deleted"] = False
        run.cleanup["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        await api.aclose()


async def run_agent(ctx: Context, agent_name: str, turns: int, worker_ports: tuple[int, ...] = ()) -> AgentRun:
    """Dispatch `agent_name` ("" = automatic dispatch), wait for it, talk `turns` times; always clean up.
    `worker_ports`: health ports the project's code names, where local workers are looked for."""
    import asyncio

    from livekit import api as lk

    s = livekit_settings(ctx)
    run = AgentRun(room=f"doctor-agent-{secrets.token_hex(4)}", agent_name=agent_name)
    rtc_ready = asyncio.ensure_future(import_off_loop("livekit.rtc"))
    http = await client_session(ctx, total=None)
    api = lk.LiveKitAPI(url=target(ctx).http_base, api_key=s.api_key, api_secret=s.api_secret, session=http)
    rooms: list[Any] = []  # the doctor's rtc room, once made
    dispatch_ids: list[str] = []
    try:
        await _session(ctx, api, rooms, run, turns, dispatch_ids, worker_ports, rtc_ready)
    except SetupFailed as exc:
        run.setup_error = str(exc)
    finally:
        rtc_ready.cancel()  # a no-op once imported; the import thread itself finishes on its own
        await asyncio.shield(_cleanup(api, rooms, run, dispatch_ids))
        await http.close()
    return run


async def agent_run(ctx: Context, agent_name: str, turns: int, worker_ports: tuple[int, ...] = ()) -> AgentRun:
    """One run per doctor invocation, shared by the checks that read it."""
    return await ctx.amemo("agent.run", lambda: run_agent(ctx, agent_name, turns, worker_ports))
