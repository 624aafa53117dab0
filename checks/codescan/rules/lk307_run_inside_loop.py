"""LK307: asyncio.run where a loop is already running.

Inside `async def` an event loop is running, so asyncio.run() and loop.run_until_complete()
raise "RuntimeError: ... cannot be called from a running event loop".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import RUNNERS

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK307"
TITLE = "asyncio.run where a loop is already running"
SEVERITY = "fail"
FIX = ("Inside `async def`, await the coroutine instead of asyncio.run()/run_until_complete(), which "
       "raise 'cannot be called from a running event loop'.")
CODES = {"run-inside-loop": "asyncio.run()/run_until_complete() inside async def: RuntimeError"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:
        if call.context == "async" and call.func in RUNNERS:
            yield facts.finding(ID, call.node, f"{call.func.name}() inside `async def`: a loop is already "
                                               "running, so it raises RuntimeError")
