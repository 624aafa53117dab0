"""LK315: a request class passed where a request is expected.

`await lk.room.list_rooms(api.ListRoomsRequest)` hands the protobuf class itself to the service,
not a request made from it: serialising it fails with "TypeError: unbound method
Message.SerializeToString() needs an argument", so the call never reaches the server.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK315"
TITLE = "Request class passed instead of a request"
SEVERITY = "fail"
FIX = "Call the class to make the request: `api.ListRoomsRequest()`, `api.CreateRoomRequest(name=...)`."
CODES = {"request-class": "a request class passed where a request object is expected: TypeError"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:
        if call.kind is None or call.kind.what not in ("coro", "sync") or call.func.what != "method":
            continue
        for position, cls in call.classes:
            name = cls.name.rpartition(".")[2]
            if name.endswith("Request"):
                yield facts.finding(ID, call.node, f"{call.func.member}() is given the class {name} itself as "
                                                   f"argument {position + 1}, not a request: write {name}(...) "
                                                   "(serialising a class raises TypeError)")
