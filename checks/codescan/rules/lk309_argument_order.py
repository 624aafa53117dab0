"""LK309: credentials passed in the wrong order.

LiveKitAPI takes (url, api_key, api_secret) and AccessToken (api_key, api_secret). Written the
other way round (`LiveKitAPI(key, secret, url)`, the Node SDK's order, or key and secret swapped)
nothing fails until the first request: "url must be set" is not raised, the key is used as a URL
("unsupported protocol scheme") or every token is signed with the key (401 signature invalid).
Only arguments whose name or value says what they are (`LIVEKIT_URL`, `api_secret`, "wss://...")
are judged.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK309"
TITLE = "Credentials passed in the wrong order"
SEVERITY = "fail"
FIX = ("Pass them by keyword: `api.LiveKitAPI(url=..., api_key=..., api_secret=...)`, "
       "`api.AccessToken(api_key=..., api_secret=...)`.")
CODES = {"argument-order": "URL, key and secret given in the wrong positions"}
ORDER = {"LiveKitAPI": ("url", "key", "secret"), "AccessToken": ("key", "secret")}
URL_SCHEMES = ("http://", "https://", "ws://", "wss://")


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for call in facts.calls:
        order = ORDER.get(call.func.name) if call.func.what == "class" else None
        if order is None:
            continue
        said = [what_it_is(arg) for arg in call.node.args[:len(order)]]
        wrong = [(i, got) for i, got in enumerate(said) if got is not None and got != order[i]]
        if wrong:
            shown = ", ".join(got or "?" for got in said)
            yield facts.finding(ID, call.node, f"{call.func.name}() takes ({', '.join(order)}) but is given "
                                               f"({shown}): argument {wrong[0][0] + 1} looks like the {wrong[0][1]}")


def what_it_is(arg: ast.expr) -> str | None:
    """"url", "key" or "secret" when the argument's name or literal says so, else None."""
    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
        return "url" if arg.value.startswith(URL_SCHEMES) else None
    name = _name(arg).lower()
    if "url" in name or "host" in name:
        return "url"
    if "secret" in name:
        return "secret"
    return "key" if name.endswith("key") else None


def _name(arg: ast.expr) -> str:
    """The identifier an argument is read from: a name, an attribute, an environment variable."""
    if isinstance(arg, ast.Name):
        return arg.id
    if isinstance(arg, ast.Attribute):
        return arg.attr
    if isinstance(arg, ast.Call) and arg.args and isinstance(arg.args[0], ast.Constant):  # os.getenv("LIVEKIT_URL")
        return str(arg.args[0].value)
    if isinstance(arg, ast.Subscript) and isinstance(arg.slice, ast.Constant):  # os.environ["LIVEKIT_URL"]
        return str(arg.slice.value)
    return ""
