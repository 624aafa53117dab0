"""The agent in the app's own session room (LK605): what the app asked for, and does that agent join?

After the app's endpoint made its session, the doctor joins the room it names with the app's own
token, as the app's client would: a join is what makes the server act on a token's
`roomConfig.agents` (only when that join creates the room), and many agents wait for a caller.
It reads the room's dispatches from the server (ListDispatch shows an explicit create_dispatch,
CreateRoomRequest(agents=...) and a token's roomConfig alike) and waits for the agent participant.

Cleanup: the doctor leaves, and deletes the room when nobody but itself and agents is in it (which
ends the agents' jobs); a room with other people in it (an app handing out one shared room) is
left alone and said so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit_doctor.checks.plumbing.agents.agent_dispatch import AGENT_KIND, AGENT_NAME_ATTRIBUTE, JOB_WAIT, JOIN_WAIT, POLL
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import net_timeout, target
from livekit_doctor.plugin import Context

if TYPE_CHECKING:
    from livekit import api as lkapi

DISPATCH_WAIT = 2.0  # s after the doctor joined for a dispatch to appear (an app may dispatch in the background)
NOTHING, NO_JOB, JOB_FAILED = "nothing dispatched", "no job", "job failed"


@dataclass
class AppAgentRun:
    room: str
    token_agents: list[str]  # names in the app's token's roomConfig.agents
    identity_used: str = ""  # the app token's identity: the doctor's own participant
    dispatches: list[dict[str, Any]] = field(default_factory=list)  # as the server lists them
    dispatches_read: bool = False  # the server answered ListDispatch at least once
    read_error: str | None = None  # its last refusal, in its words
    cause: str | None = None  # None: an agent joined
    detail: str = ""
    identity: str | None = None  # the agent participant that joined
    agent_name: str | None = None  # its lk.agent.name attribute
    in_room_ms: float | None = None  # since the app answered
    setup_error: str | None = None
    cleanup: dict[str, Any] = field(default_factory=dict)

    def named(self) -> list[dict[str, Any]]:
        """The dispatches that name an agent: what the app asked for (the server adds an automatic one, without a
        name, to every room created without agents; only a worker registered without agent_name takes it)."""
        return [d for d in self.dispatches if d["agent_name"]]

    def jobs(self) -> list[dict[str, Any]]:
        """Jobs of the dispatches that matter: the named ones, else the automatic one."""
        return [j for d in (self.named() or self.dispatches) for j in d["jobs"]]

    def asked(self) -> list[str]:
        """The agent names the app asked for, the server's record first; [""] when only automatic dispatch took it."""
        names = [d["agent_name"] for d in self.named()] + self.token_agents
        return list(dict.fromkeys(names)) or ([""] if self.jobs() else [])

    def ignored_room_config(self) -> list[str]:
        """Names in the token's roomConfig.agents the server did not dispatch: it ignores roomConfig when the
        room exists before the first join (the app created it)."""
        dispatched = {d["agent_name"] for d in self.dispatches}
        return [n for n in self.token_agents if n not in dispatched]


def token_agents(claims: dict[str, Any]) -> list[str]:
    """Agent names in a token's roomConfig.agents (camelCase as the SDKs write it, snake_case as protojson reads)."""
    config = claims.get("roomConfig") or claims.get("room_config") or {}
    agents = config.get("agents") if isinstance(config, dict) else None
    return [str(a.get("agentName", a.get("agent_name", ""))) for a in agents or [] if isinstance(a, dict)]


def _dispatch_facts(listed: Any, lk: Any) -> list[dict[str, Any]]:
    return [{"id": d.id, "agent_name": d.agent_name,
             "jobs": [{"id": j.id, "status": lk.JobStatus.Name(j.state.status), "error": j.state.error,
                       "participant_identity": j.state.participant_identity} for j in d.state.jobs]}
            for d in listed]


def _agent_in(room: Any, run: AppAgentRun) -> Any:
    """The agent participant the app asked for (by its job's identity or its name attribute), or any agent when
    the app named none."""
    named = {d["agent_name"] for d in run.named()} | set(run.token_agents)
    identities = {j["participant_identity"] for j in run.jobs()}
    for p in room.remote_participants.values():
        if p.kind == AGENT_KIND and (not named or p.identity in identities
                                     or dict(p.attributes).get(AGENT_NAME_ATTRIBUTE) in named):
            return p
    return None


async def _wait(api: "lkapi.LiveKitAPI", room: Any, run: AppAgentRun, answered_at: float, step: float,
                dispatch_wait: float) -> None:
    """Poll the room's dispatches until the agent asked for is in the room or a cause is certain; sets run.cause."""
    import asyncio

    from livekit import api as lk

    joined_at = time.monotonic()
    first_named = first_job = None
    while True:
        seen = time.monotonic()
        try:
            listed = await asyncio.wait_for(api.agent_dispatch.list_dispatch(run.room), step)
            run.dispatches, run.dispatches_read = _dispatch_facts(listed, lk), True
        except asyncio.TimeoutError:
            pass
        except lk.TwirpError as exc:  # the doctor's key refused: what the app dispatched cannot be known
            run.read_error = f"ListDispatch: HTTP {exc.status} {exc.code}: {exc.message}"
        agent = _agent_in(room, run)
        if agent is not None:
            run.identity = agent.identity
            run.agent_name = dict(agent.attributes).get(AGENT_NAME_ATTRIBUTE)
            run.in_room_ms = round((seen - answered_at) * 1000, 1)
            return
        now, jobs = time.monotonic(), run.jobs()
        first_named = first_named or (now if run.named() else None)
        first_job = first_job or (now if jobs else None)
        failed = [j for j in jobs if j["status"] == "JS_FAILED"]
        if failed:
            run.cause, run.detail = JOB_FAILED, failed[0]["error"] or "the server reports the job failed"
            return
        if not run.named() and not jobs and now - joined_at >= dispatch_wait:
            run.cause = NOTHING  # no named dispatch, and no worker took the automatic one
            return
        if first_named and not jobs and now - first_named > JOB_WAIT:
            run.cause = NO_JOB
            return
        if first_job and now - first_job > JOIN_WAIT:
            run.cause = JOB_FAILED
            run.detail = (f"job {jobs[0]['id']} was accepted but its agent ({jobs[0]['participant_identity']}) did "
                          f"not join within {JOIN_WAIT:g} s")
            return
        await asyncio.sleep(POLL)


async def _cleanup(api: "lkapi.LiveKitAPI", room: Any, run: AppAgentRun) -> None:
    """Leave; delete the room when only the doctor and agents are in it; never raises."""
    import asyncio

    from livekit import api as lk

    try:
        await asyncio.wait_for(room.disconnect(), 3)
    except Exception:  # never connected, or already gone
        pass
    try:
        listed = await asyncio.wait_for(api.room.list_participants(lk.ListParticipantsRequest(room=run.room)), 5)
        others = [p.identity for p in listed.participants if p.kind != AGENT_KIND and p.identity != run.identity_used]
        if others:
            run.cleanup |= {"room_deleted": False, "others_in_room": len(others)}
            return
        await asyncio.wait_for(api.room.delete_room(lk.DeleteRoomRequest(room=run.room)), 5)
        rooms = await asyncio.wait_for(api.room.list_rooms(lk.ListRoomsRequest(names=[run.room])), 5)
        run.cleanup["room_deleted"] = not rooms.rooms
    except Exception as exc:  # reported, never raised: the verdict on the agent matters more
        run.cleanup |= {"room_deleted": False, "error": f"{type(exc).__name__}: {exc}"}


async def watch_app_room(ctx: Context, url: str, token: str, room_name: str, claims: dict[str, Any],
                         answered_at: float, dispatch_wait: float = DISPATCH_WAIT) -> AppAgentRun:
    """Join the app's room with its token, wait for the agent it asked for, clean up (on cancel too).
    `dispatch_wait`: how long a room without a dispatch is watched (0: the first read decides, for a run
    where no agent is expected; an automatic worker has taken the room's job by then)."""
    import asyncio

    from livekit import api as lk
    from livekit import rtc

    s = livekit_settings(ctx)
    run = AppAgentRun(room=room_name, token_agents=token_agents(claims), identity_used=str(claims.get("sub") or ""))
    step = net_timeout(ctx)
    http = await client_session(ctx, total=None)
    api = lk.LiveKitAPI(url=target(ctx).http_base, api_key=s.api_key, api_secret=s.api_secret, session=http)
    room = rtc.Room()
    try:
        try:
            await asyncio.wait_for(room.connect(url, token, rtc.RoomOptions(auto_subscribe=False)), 10)
        except (asyncio.TimeoutError, rtc.ConnectError) as exc:
            run.setup_error = f"{type(exc).__name__}: {exc}" if str(exc) else "no answer in time"
            return run
        await _wait(api, room, run, answered_at, step, dispatch_wait)
    finally:
        await asyncio.shield(_cleanup(api, room, run))
        await api.aclose()
        await http.close()
    return run
