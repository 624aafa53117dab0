"""LK301: names the installed SDK does not have.

`RoomServiceClient` (the Node/Go name), `VideoGrant`, `from livekit import AccessToken`,
`livekit.models`, `AccessToken().with_grant(...)`, or `livekit.api` itself when livekit-api is not
what is installed: the app dies with ImportError or AttributeError at import, or with a 500 on the
first request that reaches the line. Imports inside `try: ... except ImportError` are deliberate
feature probes and are not judged; `from .livekit import x` is the app's own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import ACCESS_TOKEN, LIVEKIT_API
from livekit_doctor.checks.codescan.knowledge import NEVER_IN_LIVEKIT_API, NEVER_ON_ACCESS_TOKEN

if TYPE_CHECKING:
    import ast

    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK301"
TITLE = "Names the installed SDK does not have"
SEVERITY = "fail"
FIX = ("Import what the installed SDK provides: `from livekit import api` then `api.LiveKitAPI`, "
       "`api.AccessToken().with_grants(api.VideoGrants(...))`; RoomServiceClient is the Node/Go name.")
CODES = {
    "unknown-name": "a name, class or method the installed SDK does not have (ImportError or AttributeError)",
    "no-such-module": "a `livekit.<x>` module no installed distribution provides (ModuleNotFoundError)",
    "api-not-importable": "the code imports livekit.api, which does not import in the app's interpreter",
}
FIXES = {
    "no-such-module": "Import only modules an installed distribution provides: install the one meant (livekit-agents "
                      "for livekit.agents, livekit-api for livekit.api), or correct the module's name.",
    "api-not-importable": "Install the official server SDK in the app's interpreter (`python -m pip install "
                          "livekit-api`, see LK101), or write the code for the SDK that is installed.",
}
EXPLAINED_BY = {"api-not-importable": ("LK101.not-installed", "LK101.rtc-only", "LK101.third-party-only",
                                       "LK101.shadowed", "LK101.requirements-not-met", "LK101.import-fails")}

CHECKED_REFERENCES = {*NEVER_IN_LIVEKIT_API, "RoomService"}  # `api.<name>` judged beyond imports (by the probe)
BETTER = {"RoomServiceClient": "LiveKitAPI (its .room service)", "VideoGrant": "VideoGrants",
          "RoomService": "LiveKitAPI (its .room service)", "RoomGrant": "VideoGrants"}
WHY_NO_API = {"third-party": "the installed livekit package is the third-party synchronous one, whose "
                             "livekit/__init__.py hides the official livekit.api",
              "rtc-only": "only the livekit rtc package is installed, not livekit-api",
              "none": "no LiveKit server SDK is installed"}
WHY_NO_TOP_LEVEL = {"official": "the official livekit package has no top-level {name}",
                    "rtc-only": "only the livekit rtc package is installed: `livekit` has no top-level {name}",
                    "none": "no LiveKit server SDK is installed: `livekit` has no top-level {name}"}
TOP_LEVEL_HINT = {"RoomServiceClient": " (the Node/Go SDK name; use api.LiveKitAPI and its .room service)",
                  "VideoGrant": " (use `from livekit import api` then api.VideoGrants)"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for imported in facts.imports:
        if imported.guarded:
            continue
        module = imported.module
        if module is not None and module.startswith("livekit."):
            yield from _subpackage(facts, sdk, imported.node, module)
        for kind in imported.kinds:
            if kind == LIVEKIT_API:
                yield from _api_import(facts, sdk, imported.node)
            elif module == "livekit" and kind.what == "class":
                yield from _top_level_name(facts, sdk, imported.node, kind.name)
            elif kind.what == "class" and (module == "livekit.api" or (module or "").startswith("livekit.protocol")):
                yield from _api_name(facts, sdk, imported.node, kind.name.rpartition(".")[2])
        if module == "livekit.api":
            yield from _api_import(facts, sdk, imported.node)
    for ref in facts.references:
        if ref.module == "livekit.api" or ref.module.startswith("livekit.protocol"):
            if ref.name in CHECKED_REFERENCES:
                yield from _api_name(facts, sdk, ref.node, ref.name)
    if sdk.family == "official":
        for call in facts.calls:
            if call.func.what == "method" and call.func.owner == ACCESS_TOKEN.name \
                    and call.func.member in NEVER_ON_ACCESS_TOKEN:
                yield facts.finding(ID, call.node, f"AccessToken has no {call.func.member}() in the installed "
                                                   f"{sdk.describe()} (AttributeError); use .with_grants(...)")


def _subpackage(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt, module: str) -> Iterator[Finding]:
    first = module.split(".")[1]
    if first not in ("api", "rtc") and not sdk.has_subpackage(first):
        yield facts.finding(ID, node, f"`{module}` does not exist here: no installed distribution provides "
                                      f"livekit.{first} (ModuleNotFoundError)", code="no-such-module")


def _api_import(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt) -> Iterator[Finding]:
    if not sdk.api_importable:
        why = WHY_NO_API.get(sdk.family, "livekit.api does not import")
        yield facts.finding(ID, node, f"`livekit.api` cannot be imported here: {why} (pip install livekit-api)",
                            code="api-not-importable")


def _top_level_name(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt, name: str) -> Iterator[Finding]:
    """The official `livekit` is a namespace package: its names live in livekit.api."""
    if sdk.family in WHY_NO_TOP_LEVEL:
        hint = TOP_LEVEL_HINT.get(name, f" (use `from livekit import api` then api.{name})")
        yield facts.finding(ID, node, f"`from livekit import {name}`: "
                                      f"{WHY_NO_TOP_LEVEL[sdk.family].format(name=name)}{hint}")
    elif not sdk.has(name):
        yield facts.finding(ID, node, f"`from livekit import {name}`: the installed {sdk.describe()} has no {name}")


def _api_name(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt | ast.expr, name: str) -> Iterator[Finding]:
    if not sdk.api_importable:
        return  # the import itself is the finding
    if not sdk.has(name) or (sdk.family == "official" and name in NEVER_IN_LIVEKIT_API):
        better = BETTER.get(name, "")
        yield facts.finding(ID, node, f"{name} does not exist in the installed {sdk.describe()}"
                                      + (f"; use {better}" if better else ""))
