"""LK314: one LiveKitAPI reused across asyncio.run() calls.

A client cached in a module-level name (`global _lk; _lk = api.LiveKitAPI()`) belongs to the event
loop it was made in. Each `asyncio.run()` makes a new loop and closes it at the end, so the second
run that reuses the cached client fails: "Event loop is closed", or "Timeout context manager should
be used inside a task". Flagged when the module runs loops more than once: `asyncio.run()` in a
plain function (called per request or per command), or several `asyncio.run()` calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import RUNNERS

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK314"
TITLE = "LiveKitAPI reused across event loops"
SEVERITY = "fail"
FIX = ("Create and close the client inside the coroutine that asyncio.run() runs (`async with api.LiveKitAPI() "
       "as lk:`), or run one long-lived loop for the whole program.")
CODES = {"client-across-loops": "a cached LiveKitAPI reused by later asyncio.run() loops: 'Event loop is closed'"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    runners = [call for call in facts.calls if call.func in RUNNERS]
    if not runners or (len(runners) < 2 and all(call.context != "def" for call in runners)):
        return
    for life in facts.lifetimes:
        if life.holder == "module" and life.lazy:
            yield facts.finding(ID, life.node, f"this LiveKitAPI is cached in the module-level `{life.name}` while "
                                               f"asyncio.run() (line {runners[0].node.lineno}) starts a new loop each "
                                               "time: the next run reusing it fails with 'Event loop is closed'")
