"""LK312: coroutines collected in a list and never gathered.

`tasks.append(lk.room.delete_room(...))` in a loop, then nothing reads `tasks`: the list holds
coroutine objects that never run (no `asyncio.gather(*tasks)`), so none of the calls happens and
Python warns "coroutine ... was never awaited" at exit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK312"
TITLE = "Coroutines collected and never gathered"
SEVERITY = "fail"
FIX = "Run them: `await asyncio.gather(*tasks)` once the list is complete."
CODES = {"never-gathered": "coroutines collected in a list that nothing awaits: none of the calls runs"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for collected in facts.collected:
        yield facts.finding(ID, collected.node, f"coroutines are appended to `{collected.name}` but the list is never "
                                                "read again (no asyncio.gather): none of these calls runs")
