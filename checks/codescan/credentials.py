"""String literals that hold a LiveKit API key or secret, wherever the code gives them.

Passed to an SDK constructor (by position or keyword), to any LiveKit class's `api_key=` /
`api_secret=` (WorkerOptions, AgentServer...), as the default of `os.getenv("LIVEKIT_API_SECRET",
"...")`, or assigned to a LIVEKIT_API_SECRET-like name. Whether a literal is a leak (a real-looking
value in application code) is LK308's judgement, not this module's.
"""

from __future__ import annotations

import ast
import re
from typing import Literal

from livekit_doctor.checks.codescan.facts import Call, Credential

What = Literal["key", "secret"]
# Positions of the API key and secret among each constructor's arguments.
CREDENTIAL_ARGS = {"LiveKitAPI": (1, 2), "AccessToken": (0, 1), "TokenVerifier": (0, 1), "RoomServiceClient": (1, 2)}
CREDENTIALS: tuple[What, What] = ("key", "secret")
KEYWORDS: dict[str | None, What] = {"api_key": "key", "api_secret": "secret"}
ENV_NAME = re.compile(r"(?i)^(?:LIVEKIT_)?API_(KEY|SECRET)$")
CONSTANT_NAME = re.compile(r"(?i)^(?:.*_)?(?:LIVEKIT|LK)_?(?:API_?)?(KEY|SECRET)$|^API_SECRET$")


def passed(call: Call) -> list[Credential]:
    """Literals a call of a LiveKit class takes as the key or secret (by position or keyword)."""
    func = call.func
    if func.what != "class":
        return []
    args = call.node.args
    values: list[tuple[ast.expr, What]] = []
    if func.name in CREDENTIAL_ARGS:
        values = [(args[i], what) for i, what in zip(CREDENTIAL_ARGS[func.name], CREDENTIALS) if i < len(args)]
    if func.name in CREDENTIAL_ARGS or not func.name.startswith("livekit.plugins."):  # a plugin's key is not ours
        values += [(kw.value, KEYWORDS[kw.arg]) for kw in call.node.keywords if kw.arg in KEYWORDS]
    cls = func.name.rpartition(".")[2]
    return [Credential(value, f"passed to {cls}()", what, value.value) for value, what in values if _literal(value)]


def env_default(node: ast.Call) -> Credential | None:
    """`os.getenv("LIVEKIT_API_SECRET", "<literal>")`: the literal is the secret whenever the variable is unset."""
    if len(node.args) != 2 or not _literal(node.args[1]) or not _literal(node.args[0]) or not _is_getenv(node.func):
        return None
    name, default = node.args
    match = ENV_NAME.match(name.value)
    if match is None:
        return None
    return Credential(default, f"as the default of getenv({name.value!r})",
                      "secret" if match[1].upper() == "SECRET" else "key", default.value)


def assigned(node: ast.Assign | ast.AnnAssign) -> list[Credential]:
    """`LIVEKIT_API_SECRET = "<literal>"` (a module constant, a class attribute, `self.api_secret`...)."""
    if node.value is None or not _literal(node.value):
        return []
    found = []
    for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
        name = target.id if isinstance(target, ast.Name) else getattr(target, "attr", "")
        match = CONSTANT_NAME.match(name)
        if match:
            what: What = "key" if (match[1] or "SECRET").upper() == "KEY" else "secret"
            found.append(Credential(node.value, f"assigned to {name}", what, node.value.value))
    return found


def _literal(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)


def _is_getenv(func: ast.expr) -> bool:
    """os.getenv(...), os.environ.get(...), environ.get(...), getenv(...)."""
    if isinstance(func, ast.Name):
        return func.id == "getenv"
    if isinstance(func, ast.Attribute):
        if func.attr == "getenv":
            return True
        base = func.value
        return func.attr == "get" and (isinstance(base, ast.Name) and base.id == "environ" or
                                       isinstance(base, ast.Attribute) and base.attr == "environ")
    return False
