"""LK304: LiveKitAPI constructed outside a coroutine.

LiveKitAPI() opens an aiohttp ClientSession, which with aiohttp >= 3.10 raises "no running
event loop" when no loop runs: at module level, in a class body, or in code run at import the
app fails to start (older aiohttp binds the session to the wrong loop). A plain-def FastAPI
dependency (run in a worker thread), a Flask/Django app's plain functions and Django's
AppConfig.ready() run with no loop either, and so does a project factory (a plain def making the
client, in any module) called at import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Construction, Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK304"
TITLE = "LiveKitAPI constructed outside a coroutine"
SEVERITY = "fail"
FIX = ("Create LiveKitAPI lazily inside async code (first use in an async function) or in the web "
       "framework's lifespan/startup hook; with aiohttp >= 3.10 it raises 'no running event loop' otherwise.")
CODES = {"client-outside-coroutine": "LiveKitAPI() created where no event loop runs"}
WHERE = {"module": "at module level (import time)", "class": "in a class body"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    effect = "raises 'no running event loop'" if sdk.needs_running_loop else \
        "needs a running event loop with aiohttp >= 3.10"
    for construction in facts.constructions:
        where = _where(construction, facts.import_time_calls)
        if where:
            yield facts.finding(ID, construction.node,
                                f"LiveKitAPI() is created {where}, outside any coroutine: it {effect}")
    for call in facts.local_calls:  # `lk = make_client()` at import, the factory in another project module
        if call.origin in facts.project.client_factories and call.context in WHERE:
            module, _, name = call.origin.partition(":")
            yield facts.finding(ID, call.node, f"{name}() (from {module}) creates a LiveKitAPI and is called "
                                               f"{WHERE[call.context]}, outside any coroutine: it {effect}")


def _where(construction: Construction, import_time_calls: frozenset[str]) -> str | None:
    if construction.context in WHERE:
        return WHERE[construction.context]
    if construction.context == "def" and construction.function in import_time_calls:
        return "in a plain function that runs at import time"
    return construction.no_loop if construction.context == "def" else None
