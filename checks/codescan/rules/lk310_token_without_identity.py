"""LK310: a join token without an identity.

`AccessToken().with_grants(VideoGrants(room_join=True, ...)).to_jwt()` with no `with_identity(...)`
raises "ValueError: identity and room must be set when joining a room" in to_jwt() (livekit-api 1.2),
and the server refuses such a token anyway ("identity cannot be empty"). Judged on one builder chain, where all is seen.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import Kind

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK310"
TITLE = "Join token without an identity"
SEVERITY = "fail"
FIX = "Add `.with_identity(user_id)` to the builder before `.to_jwt()`: every participant needs one."
CODES = {"token-without-identity": "a join token built without an identity: to_jwt() raises ValueError"}
TO_JWT = Kind("method", "AccessToken.to_jwt")


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:
        if call.func != TO_JWT:
            continue
        steps, base = _chain(call.node)
        if not _is_constructor(base) or "with_identity" in steps:
            continue
        if any(_joins(arg) for step in steps.get("with_grants", []) for arg in step.args):
            yield facts.finding(ID, call.node, "this token grants room_join but has no with_identity(): to_jwt() "
                                               "raises ValueError (identity and room must be set when joining a room)")


def _chain(node: ast.Call) -> tuple[dict[str, list[ast.Call]], ast.expr]:
    """The builder steps before `.to_jwt()` by name, and what the chain starts from."""
    steps: dict[str, list[ast.Call]] = {}
    current: ast.expr = node.func.value if isinstance(node.func, ast.Attribute) else node
    while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute) \
            and current.func.attr.startswith("with_"):
        steps.setdefault(current.func.attr, []).append(current)
        current = current.func.value
    return steps, current


def _is_constructor(node: ast.expr) -> bool:
    func = node.func if isinstance(node, ast.Call) else None
    return isinstance(func, ast.Name) and func.id == "AccessToken" or \
        isinstance(func, ast.Attribute) and func.attr == "AccessToken"


def _joins(grant: ast.expr) -> bool:
    """`VideoGrants(room_join=True, ...)` written in place."""
    return isinstance(grant, ast.Call) and any(kw.arg == "room_join" and isinstance(kw.value, ast.Constant)
                                               and kw.value.value is True for kw in grant.keywords)
