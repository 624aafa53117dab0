"""LK301: names the installed SDK does not have.

`RoomServiceClient` (the Node/Go name), `VideoGrant`, `from livekit import AccessToken`, or
`livekit.api` itself when livekit-api is not what is installed: the app dies with ImportError
at import, or with a 500 on the first request that imports the module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

from livekit_doctor.checks.codescan.kinds import LIVEKIT_API

if TYPE_CHECKING:
    import ast

    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK301"
TITLE = "Names the installed SDK does not have"
SEVERITY = "fail"
FIX = ("Import what the installed SDK provides: `from livekit import api` then `api.LiveKitAPI`, "
       "`api.AccessToken`, `api.VideoGrants` (livekit-api); RoomServiceClient is the Node/Go name.")

OTHER_SDK_NAMES = ("RoomServiceClient", "VideoGrant")  # the third-party package's and other SDKs' names
CHECKED_REFERENCES = (*OTHER_SDK_NAMES, "RoomService")  # `api.<name>` checked beyond imports
BETTER = {"RoomServiceClient": "LiveKitAPI (its .room service)", "VideoGrant": "VideoGrants",
          "RoomService": "LiveKitAPI (its .room service)"}
WHY_NO_API = {"third-party": "the installed livekit package is the third-party synchronous one, whose "
                             "livekit/__init__.py hides the official livekit.api",
              "rtc-only": "only the livekit rtc package is installed, not livekit-api",
              "none": "no LiveKit server SDK is installed"}
TOP_LEVEL_HINT = {"RoomServiceClient": " (the Node/Go SDK name; use api.LiveKitAPI and its .room service)",
                  "VideoGrant": " (use `from livekit import api` then api.VideoGrants)"}


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for imported in facts.imports:
        for kind in imported.kinds:
            if kind == LIVEKIT_API:
                yield from _api_import(facts, sdk, imported.node)
            elif imported.module == "livekit" and kind.what == "class":
                yield from _top_level_name(facts, sdk, imported.node, kind.name)
            elif imported.module == "livekit.api" and sdk.api_importable:
                yield from _api_name(facts, sdk, imported.node, kind.name)
        if imported.module == "livekit.api":
            yield from _api_import(facts, sdk, imported.node)
    for ref in facts.references:
        if ref.module == "livekit.api" and ref.name in CHECKED_REFERENCES:
            yield from _api_name(facts, sdk, ref.node, ref.name)


def _api_import(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt) -> Iterator[Finding]:
    if not sdk.api_importable:
        why = WHY_NO_API.get(sdk.family, "livekit.api does not import")
        yield facts.finding(ID, node, f"`livekit.api` cannot be imported here: {why} (pip install livekit-api)")


def _top_level_name(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt, name: str) -> Iterator[Finding]:
    """The official `livekit` is a namespace package: its names live in livekit.api."""
    if sdk.family == "official":
        hint = TOP_LEVEL_HINT.get(name, f" (use `from livekit import api` then api.{name})")
        yield facts.finding(ID, node, f"`from livekit import {name}`: the official livekit package has no "
                                      f"top-level {name}{hint}")


def _api_name(facts: ModuleFacts, sdk: Knowledge, node: ast.stmt | ast.expr, name: str) -> Iterator[Finding]:
    if not sdk.has(name) or (sdk.family == "official" and name in OTHER_SDK_NAMES):
        better = BETTER.get(name, "")
        yield facts.finding(ID, node, f"{name} does not exist in the installed {sdk.describe()}"
                                      + (f"; use {better}" if better else ""))
