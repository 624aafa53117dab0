"""LK306: an async SDK call from a plain def.

In a plain `def` the coroutine cannot be awaited, so it is created and dropped and nothing
happens: what removing every `await` (and the endpoint's `async`) produces. Handing it to
asyncio.run() or a scheduler, or returning it to a caller, is accepted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK306"
TITLE = "Async SDK call from a plain def"
SEVERITY = "fail"
FIX = "Make the function `async def` (FastAPI/Starlette/aiohttp endpoints can be async) and await the call."
CODES = {"async-call-in-def": "an async SDK call in a plain def, where it cannot be awaited: it never runs"}
HANDED_ON = ("awaited", "scheduled", "returned")


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:
        if call.context == "def" and call.kind is not None and call.kind.what == "coro" and call.use not in HANDED_ON:
            yield facts.finding(ID, call.node, f"{call.kind.name}() is async but called from a plain `def`: it "
                                               "cannot be awaited here and never runs")
