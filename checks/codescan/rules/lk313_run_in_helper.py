"""LK313: a helper that calls asyncio.run(), called from async code.

A plain `def` that wraps `asyncio.run(...)` to look synchronous works from a script but raises
"asyncio.run() cannot be called from a running event loop" once an `async def` (an endpoint, an
agent's entrypoint) calls it: LK307 one call away.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK313"
TITLE = "Helper running its own event loop, called from async code"
SEVERITY = "fail"
FIX = "Make the helper `async def` and await it from async code; keep asyncio.run() for the program's entry point."
CODES = {"run-in-helper": "a helper running its own event loop, called from async code: RuntimeError"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.local_calls:
        helper = facts.functions.get(call.name)
        if call.context == "async" and helper is not None and not helper.is_async and helper.runner is not None:
            yield facts.finding(ID, call.node, f"{call.name}() runs its own event loop (line {helper.runner.lineno}): "
                                               "called from async code, where a loop is running, it raises RuntimeError")
