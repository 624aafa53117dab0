"""What the installed SDK makes right or wrong, taken from the SDK check's shape (LK1xx)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from livekit_doctor.checks.sdk import SdkShape

SUBMODULES = {"api", "rtc", "agents", "plugins", "protocol"}  # what the official `livekit` namespace holds
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

    @classmethod
    def from_shape(cls, shape: "SdkShape | None") -> "Knowledge":
        if shape is None or not shape.ok or shape.family == "none":
            return cls(assumed=shape is None or not shape.ok,
                       family="none" if shape is not None and shape.ok else "official",
                       api_importable=not (shape is not None and shape.ok))
        family = {"third-party-sync": "third-party", "rtc-only": "rtc-only"}.get(shape.winner or shape.family, "official")
        return cls(family=family, api_importable=shape.api_importable, names=dict(shape.names),
                   methods=dict(shape.methods), needs_running_loop=shape.aiohttp_needs_running_loop)

    def describe(self) -> str:
        return {"official": "livekit-api (async)", "third-party": "third-party synchronous livekit package",
                "none": "(no LiveKit server SDK)", "rtc-only": "livekit rtc package (no livekit-api)"}[self.family] + (
            " (assumed: the SDK could not be inspected)" if self.assumed else "")

    def has(self, name: str) -> bool:
        """Unknown names are given the benefit of the doubt."""
        return self.names.get(name, True)

    def is_service_method(self, service: str, method: str) -> bool:
        """A method the installed SDK's service has (for receivers of unknown type)."""
        return f"{service}.{method}" in self.methods or (service == "room" and method in ROOM_METHODS)

    def service_call_is_async(self, service: str, method: str) -> bool:
        if self.family == "third-party":
            return False
        return self.methods.get(f"{service}.{method}", "async") == "async"
