"""What else explains a media failure before blaming the network: the server went away mid-check, or
this machine was too busy to keep time (frames produced and read late).

A media step that fails right after the signal join worked usually means blocked UDP/TCP ports, but
two other causes look the same from inside the SDK: the server process died, was stopped or
restarted while the check ran, and the doctor itself was starved of CPU (several doctors, a big
build). Each is measured, so the verdict names the cause that really happened.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.config.target import Target
from livekit_doctor.plugin import Context

if TYPE_CHECKING:
    import asyncio

TICK = 0.02  # seconds the lag meter sleeps between looks at the clock
STARVED_LAG = 0.1  # seconds one wake-up of the event loop came late: audio frames (10 ms) could not be kept up
STARVED_SHARE = 0.25  # of the time media was awaited, lost to late wake-ups: enough to explain a media failure
STARVED_LATE = 3  # late wake-ups at least: one hiccup (an import, a GC pause) never explains a failure


@dataclass
class LagMeter:
    """How late the event loop wakes up while media flows: the doctor's own CPU starvation, measured."""

    worst: float = 0.0  # seconds of the latest wake-up
    late: int = 0  # wake-ups later than STARVED_LAG
    lost: float = 0.0  # seconds of all wake-ups' lateness
    started: float = field(default_factory=time.perf_counter)
    _task: "asyncio.Task[None] | None" = field(default=None, repr=False)

    async def _run(self) -> None:
        import asyncio

        while True:
            before = time.perf_counter()
            await asyncio.sleep(TICK)
            lag = time.perf_counter() - before - TICK
            self.worst = max(self.worst, lag)
            self.late += lag > STARVED_LAG
            self.lost += max(lag, 0.0)

    def start(self) -> "LagMeter":
        import asyncio

        self.started = time.perf_counter()
        self._task = asyncio.ensure_future(self._run())
        return self

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()

    @property
    def starved(self) -> bool:
        """Late often and long enough to explain missing media; a blocked network is not starvation."""
        elapsed = max(time.perf_counter() - self.started, TICK)
        return self.late >= STARVED_LATE and self.lost >= STARVED_SHARE * elapsed

    def describe(self) -> str:
        return (f"starved: this machine was too busy to keep the audio in time (the doctor's event loop woke "
                f"up to {self.worst * 1000:.0f} ms late, {self.late} time{'s' if self.late != 1 else ''}, "
                f"{self.lost:.1f} s lost in all; 10 ms "
                f"audio frames were produced and read late)")


async def server_gone(ctx: Context, where: Target, same_room: Callable[[], Awaitable[bool]] | None = None) -> str:
    """'' while the server still answers and (when asked) still has the check's room, the same one; else what
    happened to it. A restarted server has forgotten the room, which the SDK's reconnect may create anew."""
    import asyncio

    import aiohttp

    try:
        async with await client_session(ctx, total=min(3.0, max(1.0, _net(ctx)))) as session:
            async with session.get(f"{where.http_base}/") as resp:
                await resp.read()
    except aiohttp.ClientConnectorError as exc:
        return (f"the server went away during the check: {where.netloc} no longer accepts connections "
                f"({_reason(exc)}); it stopped or crashed")
    except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
        return (f"the server went away during the check: {where.netloc} accepts connections but no longer "
                "answers (stopped, paused or hung)")
    except (aiohttp.ClientError, OSError) as exc:
        return f"the server went away during the check: {where.netloc} fails ({_reason(exc)})"
    if same_room is not None:
        for _ in range(2):  # a keep-alive connection from before a restart fails once ('server disconnected')
            try:
                if not await asyncio.wait_for(same_room(), 3):
                    return ("the server restarted during the check: it answers again, but the room the check "
                            "created was gone and the SDK lost its connection (a restart forgets every room)")
                break
            except Exception:  # an answer we cannot read says nothing about a restart
                continue
    return ""


def _net(ctx: Context) -> float:
    from livekit_doctor.checks.plumbing.config.target import net_timeout

    return net_timeout(ctx)


def _reason(exc: Any) -> str:
    inner = getattr(exc, "os_error", None) or exc
    return getattr(inner, "strerror", None) or type(inner).__name__


GONE_FIX = ("Check the server process: its log and exit status (a crash, an OOM kill, a deploy or restart during "
            "the run), then run the doctor again; nothing is wrong with the ports as far as this run can tell.")
STARVED_FIX = ("Run the doctor again on a machine (or at a time) with free CPU: other processes took it while the "
               "media check ran, so its verdict on media says nothing about the network.")
