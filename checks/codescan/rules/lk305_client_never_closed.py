"""LK305: LiveKitAPI never closed.

An unclosed LiveKitAPI leaves its aiohttp session open: "Unclosed client session" at exit and
leaked connections in long-running apps. A file that never mentions `aclose` and does not use
`async with` cannot be closing it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK305"
TITLE = "LiveKitAPI never closed"
SEVERITY = "warn"
FIX = ("Use `async with api.LiveKitAPI() as lkapi:` or `await lkapi.aclose()` on shutdown "
       "(otherwise aiohttp logs 'Unclosed client session').")


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    if facts.mentions_aclose:
        return
    for construction in facts.constructions:
        if not construction.async_with:
            yield facts.finding(ID, construction.node, "this LiveKitAPI is never closed (no aclose() in the file, "
                                                       "not used with `async with`): 'Unclosed client session' at exit")
