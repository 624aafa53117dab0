"""LK305: LiveKitAPI never closed.

An unclosed LiveKitAPI leaves its aiohttp session open: "Unclosed client session" at exit and
leaked connections in long-running apps. Each client is followed to what holds it (`lifetimes`):
a local must be closed in its function, on every path (an early `return`/`raise` before a close
outside `finally` leaks it, and so does an `await` that raises before it), `self.<attr>` in some
method, a module-level name somewhere in the project. A client built on a session the caller passes (`session=`) or handed to someone else is
theirs to close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK305"
TITLE = "LiveKitAPI never closed"
SEVERITY = "warn"
FIX = ("Use `async with api.LiveKitAPI() as lkapi:`, or `await lkapi.aclose()` in a `finally:` / on shutdown "
       "(otherwise aiohttp logs 'Unclosed client session').")
CODES = {
    "never-closed": "a LiveKitAPI that nothing closes: 'Unclosed client session'",
    "not-closed-on-every-path": "a LiveKitAPI closed, but not when its function returns, raises or is interrupted "
                                "by a raising await before the aclose()",
}
FIXES = {"not-closed-on-every-path": "Use `async with api.LiveKitAPI() as lkapi:`, or move `await lkapi.aclose()` "
                                    "into a `finally:` block so that every path closes it."}
HELD = {"local": "`{name}`", "self": "`self.{name}`", "module": "the module-level `{name}`"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for life in facts.lifetimes:
        held = HELD.get(life.holder, "it").format(name=life.name)
        if not life.closed:
            where = "nothing in the project" if life.holder in ("module", "self", "returned", "other") else \
                "nothing in this function"
            yield facts.finding(ID, life.node, f"this LiveKitAPI is never closed ({where} calls aclose() on "
                                               f"{held}, no `async with`): 'Unclosed client session'")
        elif life.early_exit is not None:
            yield facts.finding(ID, life.node, f"this LiveKitAPI is not closed when the function leaves early: "
                                               f"line {life.early_exit} returns or raises before the aclose() "
                                               f"(use `async with` or close it in `finally:`)",
                                code="not-closed-on-every-path")
        elif life.raising is not None:
            yield facts.finding(ID, life.node, f"this LiveKitAPI is not closed when line {life.raising} raises "
                                               f"(a refused request raises TwirpError): the aclose() after it is "
                                               f"skipped (use `async with` or close it in `finally:`)",
                                code="not-closed-on-every-path")
