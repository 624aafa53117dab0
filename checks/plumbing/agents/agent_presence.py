"""What the server's list of participants says about a dispatched agent: when it joined and published,
and when it left.

The doctor's own connection is not enough: the server shows a participant that publishes nothing to
the others only in its 3 s batch of updates, so an agent that crashes soon after joining never
appears in the doctor's room at all.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from livekit import api as lkapi

    from livekit_doctor.checks.plumbing.agents.agent_dispatch import AgentRun

POLL = 0.15  # s between reads of the server's lists


async def participants(api: "lkapi.LiveKitAPI", room: str, step_timeout: float) -> list[Any] | None:
    """The server's list of the room's participants (ParticipantInfo); None without an answer in time."""
    import asyncio

    from livekit import api as lk

    try:
        listed = await asyncio.wait_for(api.room.list_participants(lk.ListParticipantsRequest(room=room)),
                                        step_timeout)
    except (asyncio.TimeoutError, lk.TwirpError):
        return None
    return list(listed.participants)


async def server_ms(api: "lkapi.LiveKitAPI", run: AgentRun, identity: str, step_timeout: float,
                    what: str) -> float | None:
    """Since our dispatch on the server's own clock (the agent may be in, and publishing, before the doctor is):
    "joined" from its ParticipantInfo.joined_at_ms, "first_track" from its earliest track's version (set when
    it is published); None without a dispatch of ours or an answer."""
    if not run.dispatch_created_ns:
        return None
    info = next((p for p in await participants(api, run.room, step_timeout) or () if p.identity == identity), None)
    if info is None:
        return None
    stamps = [info.joined_at_ms] if what == "joined" else [t.version.unix_micro / 1000 for t in info.tracks]
    stamps = [t for t in stamps if t]
    return round(min(stamps) - run.dispatch_created_ns / 1e6, 1) if stamps else None


async def watch_leave(api: "lkapi.LiveKitAPI", run: AgentRun, left: "asyncio.Future[Any]",
                      step_timeout: float) -> None:
    """Set `left` when the server no longer lists the agent: the room hears of a participant that publishes
    nothing only in the server's 3 s batches, and not at all when it leaves before one."""
    import asyncio

    while not left.done():
        await asyncio.sleep(POLL)
        listed = await participants(api, run.room, step_timeout)
        if listed is not None and not any(p.identity == run.identity for p in listed) and not left.done():
            left.set_result(time.monotonic())
