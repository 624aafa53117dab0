"""LK303: awaiting something synchronous.

`await api.AccessToken(...).to_jwt()` (or any call of the third-party synchronous package)
raises "TypeError: object str can't be used in 'await' expression": the opposite mistake to
LK302, made when "fixing" it by adding awaits everywhere.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK303"
TITLE = "Awaiting something synchronous"
SEVERITY = "fail"
FIX = ("Remove the `await`: AccessToken.to_jwt(), TokenVerifier.verify() and the synchronous package's "
       "methods return plain values.")


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for awaited in facts.awaits:
        if awaited.kind is not None and awaited.kind.what == "sync":
            yield facts.finding(ID, awaited.node, f"{awaited.kind.name}() is synchronous in the installed "
                                                  f"{sdk.describe()}: awaiting its result raises TypeError")
