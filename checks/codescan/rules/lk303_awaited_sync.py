"""LK303: awaiting something synchronous.

`await api.AccessToken(...).to_jwt()`, `await api.AccessToken().with_identity(...)` (the builder
returns the token itself), `await WebhookReceiver(...).receive(...)` or any call of the third-party
synchronous package raises "TypeError: object ... can't be used in 'await' expression": the
opposite mistake to LK302, made when "fixing" it by adding awaits everywhere.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import ACCESS_TOKEN

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Await, Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK303"
TITLE = "Awaiting something synchronous"
SEVERITY = "fail"
FIX = ("Remove the `await`: AccessToken's builder and to_jwt(), TokenVerifier.verify(), "
       "WebhookReceiver.receive() and the synchronous package's methods return plain values.")
CODES = {"awaited-sync": "`await` on a synchronous call's result: TypeError"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for awaited in facts.awaits:
        kind = awaited.kind
        if kind is None:
            continue
        if kind.what == "sync":
            yield facts.finding(ID, awaited.node, f"{kind.name}() is synchronous in the installed "
                                                  f"{sdk.describe()}: awaiting its result raises TypeError")
        elif kind == ACCESS_TOKEN and _is_builder_call(awaited):
            yield facts.finding(ID, awaited.node, "the AccessToken builder is synchronous (each with_...() returns "
                                                  "the token itself): awaiting it raises TypeError")


def _is_builder_call(awaited: Await) -> bool:
    """`await token.with_identity(...)`, not `await make_token()` of the project's own."""
    call = awaited.node.value
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr.startswith("with_")
