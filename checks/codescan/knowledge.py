"""What the installed SDK makes right or wrong, taken from the SDK check's shape (LK1xx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livekit_doctor.checks.sdk import SdkShape

SUBMODULES = {"api", "rtc", "agents", "plugins", "protocol"}  # what the official `livekit` namespace holds
# Subpackages of LiveKit's other official distributions: when one is missing from the app's interpreter
# that is an install matter (pip), not a misuse in the code, so the scan does not judge them.
OFFICIAL_SUBPACKAGES = {*SUBMODULES, "blingfire", "durable", "local_inference", "browser"}
# Names no livekit-api release ever had (other SDKs', the third-party package's, or invented), judged
# only where the official package is what the app imports.
NEVER_IN_LIVEKIT_API = {"RoomServiceClient", "VideoGrant", "RoomGrant"}
NEVER_ON_ACCESS_TOKEN = {"with_grant", "add_grant", "add_grants", "set_identity", "set_grants", "with_video_grant"}
SERVICES = {"room", "egress", "ingress", "sip", "agent_dispatch", "connector"}
# room-service methods every livekit-api release has: recognised on objects of unknown type too
ROOM_METHODS = {"create_room", "list_rooms", "delete_room", "update_room_metadata", "list_participants",
                "get_participant", "remove_participant", "mute_published_track", "update_participant",
                "update_subscriptions", "send_data"}


@dataclass(frozen=True)
class Knowledge:
    family: str = "official"  # official | third-party | none | rtc-only
    api_importable: bool = True
    names: dict[str, bool] = field(default_factory=dict)  # name -> exists in the installed SDK
    methods: dict[str, str] = field(default_factory=dict)  # "room.create_room" -> "async" | "sync"
    needs_running_loop: bool = True
    assumed: bool = False  # no SDK shape: official livekit-api semantics assumed
    subpackages: frozenset[str] | None = None  # what installed distributions put under livekit/; None: unknown
    python: str = ""  # the app's interpreter, which parses syntax newer than the doctor's
    python_version: str | None = None

    @classmethod
    def from_shape(cls, shape: "SdkShape | None") -> "Knowledge":
        if shape is None:
            return cls(assumed=True)
        if not shape.ok or shape.family == "none":
            return cls(assumed=not shape.ok, family="none" if shape.ok else "official", api_importable=not shape.ok,
                       python=shape.interpreter if shape.ok else "", python_version=shape.python_version)
        family = {"third-party-sync": "third-party", "rtc-only": "rtc-only"}.get(shape.winner or shape.family, "official")
        subpackages = frozenset(part.split("/")[1].removesuffix(".py") for parts in shape.owners.values()
                                for part in parts if part.count("/") == 1 and not part.endswith((".txt", ".typed")))
        return cls(family=family, api_importable=shape.api_importable, names=dict(shape.names),
                   methods=dict(shape.methods), needs_running_loop=shape.aiohttp_needs_running_loop,
                   subpackages=subpackages or None, python=shape.interpreter, python_version=shape.python_version)

    def describe(self) -> str:
        return {"official": "livekit-api (async)", "third-party": "third-party synchronous livekit package",
                "none": "(no LiveKit server SDK)", "rtc-only": "livekit rtc package (no livekit-api)"}[self.family] + (
            " (assumed: the SDK could not be inspected)" if self.assumed else "")

    def has(self, name: str) -> bool:
        """Unknown names are given the benefit of the doubt."""
        return self.names.get(name, True)

    def has_subpackage(self, name: str) -> bool:
        """`livekit.<name>` is installed (some distribution provides it), official, or it cannot be known."""
        return self.subpackages is None or name in self.subpackages or name in OFFICIAL_SUBPACKAGES

    def is_service_method(self, service: str, method: str) -> bool:
        """A method the installed SDK's service has (for receivers of unknown type)."""
        return f"{service}.{method}" in self.methods or (service == "room" and method in ROOM_METHODS)

    def service_call_is_async(self, service: str, method: str) -> bool:
        if self.family == "third-party":
            return False
        return self.methods.get(f"{service}.{method}", "async") == "async"
