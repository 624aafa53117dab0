"""LK311: the project's own SDK wrapper called without `await`.

`async def create_room(name)` that calls the SDK, then `create_room("x")` as a statement: the
wrapper only returns a coroutine, so the room is never created (the SDK call LK302 would flag is
one level down, in the project's own code). Followed across the project's modules: a wrapper
imported from a project module whose file uses LiveKit counts too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, LocalCall, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK311"
TITLE = "Project coroutine wrapping the SDK not awaited"
SEVERITY = "fail"
FIX = "`await` the call (or hand it to asyncio.create_task/gather); in a plain def, make the caller async."
CODES = {"wrapper-not-awaited": "the project's own async SDK wrapper called without await: nothing runs"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.local_calls:
        if call.use == "statement" and _is_wrapper(facts, call):
            yield facts.finding(ID, call.node, f"{call.name}() is an `async def` of this project that calls the "
                                               "LiveKit SDK: without `await` it only creates a coroutine and nothing runs")


def _is_wrapper(facts: ModuleFacts, call: LocalCall) -> bool:
    here = facts.functions.get(call.name)
    if here is not None:
        return here.is_async and here.calls_sdk
    return call.origin is not None and call.origin in facts.project.async_wrappers
