"""LK302: a coroutine never awaited.

A LiveKitAPI service call, `aclose()` or rtc `Room.connect()` without `await` only creates a
coroutine: the room is never created, and Python merely warns "coroutine ... was never awaited".
Reading an attribute of the stored coroutine (`room.name`) raises AttributeError: the 500 this
project started from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK302"
TITLE = "Coroutine never awaited"
SEVERITY = "fail"
FIX = "`await` the call (inside `async def`), or hand it to asyncio.create_task/gather."
CODES = {"never-awaited": "a coroutine of the SDK made and never awaited: the call never happens"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:  # a plain def is LK306's: nothing could await there
        if call.use == "statement" and call.kind is not None and call.kind.what == "coro" and call.context != "def":
            yield facts.finding(ID, call.node, f"{call.kind.name}() returns a coroutine that is never awaited, so "
                                               "the call never happens (RuntimeWarning: coroutine ... was never awaited)")
    for stored in facts.stored_coroutines:
        name = stored.name
        if stored.attribute is None:
            message = f"the coroutine stored in `{name}` is never awaited, so the call never runs"
        else:
            message = (f"the coroutine stored in `{name}` is never awaited: `{name}.{stored.attribute.attr}` "
                       f"(line {stored.attribute.lineno}) raises AttributeError")
        yield facts.finding(ID, stored.node, message)
