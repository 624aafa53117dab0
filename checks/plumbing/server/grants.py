"""Every claim and grant a LiveKit token can carry, shown with its value, and what the token can do.

The catalogue follows livekit/protocol `auth/grants.go` (ClaimGrants, VideoGrant, SIPGrant,
AgentGrant, InferenceGrant, ObservabilityGrant) plus the grants the Python SDK 1.2 mints
(agentEndpoint, agentThread). What the token can do is what the server enforces: the server API
calls each grant opens (docs/token.md lists them), with nil publish/subscribe flags meaning
"allowed", as `VideoGrant.GetCanPublish` reads them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_VALUE = 80  # characters of metadata, attributes, roomConfig shown before "…"

REGISTERED = ("iss", "sub", "jti", "nbf", "exp", "iat", "aud")
GRANT_FAMILIES = ("video", "sip", "agent", "agentEndpoint", "agentThread", "inference", "observability")
PARTICIPANT = ("name", "kind", "kindDetails", "metadata", "attributes")
ROOM = ("roomConfig", "roomPreset", "sha256")
KNOWN = (*REGISTERED, *GRANT_FAMILIES, *PARTICIPANT, *ROOM, "identity")
CLOUD_ONLY = ("agent", "agentEndpoint", "agentThread", "inference", "observability")

GRANT_MEANING = {
    "roomJoin": "join the room",
    "room": "which room",
    "roomCreate": "create and delete rooms",
    "roomList": "list rooms",
    "roomAdmin": "moderate the room (participants, tracks, metadata, agent dispatch)",
    "roomRecord": "use egress (recording)",
    "ingressAdmin": "manage ingress",
    "canPublish": "publish tracks",
    "canSubscribe": "subscribe to tracks",
    "canPublishData": "send data messages",
    "canPublishSources": "which sources may be published",
    "canUpdateOwnMetadata": "update own metadata",
    "canSubscribeMetrics": "subscribe to metrics",
    "canManageAgentSession": "manage an agent session",
    "destinationRoom": "room participants may be forwarded to",
    "hidden": "be hidden from other participants",
    "recorder": "act as a recorder (deprecated)",
    "agent": "register as an agent worker",
}


@dataclass(frozen=True)
class ServiceCall:
    """One server API call that tells whether the server accepts the token for one capability."""

    label: str  # "ListRooms", "Egress ListEgress"
    service: str  # Twirp service: "RoomService", "Egress", "SIP", "Ingress"
    method: str
    body: dict[str, Any]
    grant: str  # the grant it stands for: "video.roomList", ...


def clip(value: Any, limit: int = MAX_VALUE) -> str:
    """A value on one line, cut at `limit` characters (metadata may hold anything, of any length)."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    text = " ".join(text.split())
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} chars)"


def _family_lines(name: str, grant: Any) -> list[str]:
    if not isinstance(grant, dict):
        return [f"{name} = {clip(grant)} (not an object: ignored)"]
    if not grant:
        return [f"{name} = {{}} (empty)"]
    out = []
    for key, value in grant.items():
        meaning = GRANT_MEANING.get(key, "") if name == "video" else ""
        out.append(f"{name}.{key} = {clip(value)}" + (f" ({meaning})" if meaning else ""))
    return out


def grant_lines(claims: dict[str, Any]) -> list[str]:
    """Every grant family's every field, with its value."""
    lines = []
    for family in GRANT_FAMILIES:
        if family in claims:
            lines += _family_lines(family, claims[family])
    return lines


def participant_lines(claims: dict[str, Any]) -> list[str]:
    """name, kind, metadata, attributes, the room claims and any claim the protocol does not define."""
    lines = []
    for key in ("name", "kind", "kindDetails", "metadata"):
        if key in claims:
            lines.append(f"{key} = {clip(claims[key])}")
    attributes = claims.get("attributes")
    if isinstance(attributes, dict):
        lines += [f"attributes.{clip(k, 40)} = {clip(v)}" for k, v in attributes.items()] or ["attributes = {}"]
    elif attributes is not None:
        lines.append(f"attributes = {clip(attributes)}")
    for key in ROOM:
        if key in claims:
            lines.append(f"{key} = {clip(claims[key], 160 if key == 'roomConfig' else MAX_VALUE)}")
    lines += [f"{key} = {clip(claims[key])} (not a LiveKit claim)" for key in claims if key not in KNOWN]
    return lines


def _video(claims: dict[str, Any]) -> dict[str, Any]:
    video = claims.get("video")
    return video if isinstance(video, dict) else {}


def _grant(claims: dict[str, Any], family: str) -> dict[str, Any]:
    value = claims.get(family)
    return value if isinstance(value, dict) else {}


def join_rights(video: dict[str, Any]) -> str:
    """'publish (camera, microphone), subscribe, send data', as the server reads nil flags."""
    publish = video.get("canPublish") is not False
    sources = video.get("canPublishSources") or []
    rights = []
    if publish:
        rights.append("publish" + (f" ({', '.join(map(str, sources))})" if sources else ""))
    if video.get("canSubscribe") is not False:
        rights.append("subscribe")
    data = video.get("canPublishData")
    if publish if data is None else data:
        rights.append("send data")
    for flag, words in (("canUpdateOwnMetadata", "update own metadata"), ("hidden", "hidden"),
                        ("canSubscribeMetrics", "subscribe to metrics")):
        if video.get(flag):
            rights.append(words)
    return ", ".join(rights) or "no publish, no subscribe, no data"


def agents(claims: dict[str, Any]) -> list[str]:
    """The agents the token dispatches when its join creates the room (roomConfig.agents)."""
    config = claims.get("roomConfig")
    found = config.get("agents") if isinstance(config, dict) else None
    out = []
    for agent in found if isinstance(found, list) else []:
        if isinstance(agent, dict):
            name = agent.get("agentName") or agent.get("agent_name") or "(unnamed: automatic dispatch)"
            meta = agent.get("metadata")
            out.append(str(name) + (f" (metadata {clip(meta, 40)})" if meta else ""))
    return out


def capabilities(claims: dict[str, Any]) -> list[str]:
    """What the token lets its holder do, in the server's terms; empty when nothing."""
    video, sip = _video(claims), _grant(claims, "sip")
    identity = claims.get("sub") or claims.get("jti") or "(no identity)"
    out = []
    if video.get("roomJoin"):
        out.append(f"join room {video.get('room', '(none)')!r} as {identity!r}: {join_rights(video)}")
        dispatched = agents(claims)
        if dispatched:
            out.append(f"dispatch agents when its join creates the room: {', '.join(dispatched)}")
    for flag, words in (("roomList", "list rooms (ListRooms)"),
                        ("roomCreate", "create and delete rooms (CreateRoom, DeleteRoom)"),
                        ("roomAdmin", f"moderate room {video.get('room', '(none)')!r} (participants, tracks, "
                                      "agent dispatch)"),
                        ("roomRecord", "use egress (start, list, stop recordings)"),
                        ("ingressAdmin", "manage ingress"), ("agent", "register as an agent worker")):
        if video.get(flag):
            out.append(words)
    if sip.get("admin"):
        out.append("manage SIP trunks and dispatch rules")
    if sip.get("call") or sip.get("admin"):
        out.append("place SIP calls (CreateSIPParticipant)")
    cloud = [f"{family}.{key}" for family in CLOUD_ONLY for key, value in _grant(claims, family).items() if value]
    if cloud:
        out.append(f"LiveKit Cloud services: {', '.join(cloud)}")
    return out


def service_calls(claims: dict[str, Any], probe_room: str) -> list[ServiceCall]:
    """The read-only (or no-op) server call that judges each admin grant; `probe_room` names a room
    that does not exist, so DeleteRoom deletes nothing."""
    video, sip = _video(claims), _grant(claims, "sip")
    calls = []
    if video.get("roomList"):
        calls.append(ServiceCall("ListRooms", "RoomService", "ListRooms", {}, "video.roomList"))
    if video.get("roomCreate"):
        calls.append(ServiceCall("DeleteRoom of a missing room", "RoomService", "DeleteRoom",
                                 {"room": probe_room}, "video.roomCreate"))
    if video.get("roomAdmin"):
        calls.append(ServiceCall("ListParticipants", "RoomService", "ListParticipants",
                                 {"room": str(video.get("room", ""))}, "video.roomAdmin"))
    if video.get("roomRecord"):
        calls.append(ServiceCall("Egress ListEgress", "Egress", "ListEgress", {}, "video.roomRecord"))
    if video.get("ingressAdmin"):
        calls.append(ServiceCall("Ingress ListIngress", "Ingress", "ListIngress", {}, "video.ingressAdmin"))
    if sip.get("admin"):
        calls.append(ServiceCall("SIP ListSIPInboundTrunk", "SIP", "ListSIPInboundTrunk", {}, "sip.admin"))
    return calls


def not_asked(claims: dict[str, Any]) -> list[str]:
    """Capabilities no harmless call can judge, and why they are left alone."""
    video, sip = _video(claims), _grant(claims, "sip")
    out = []
    if sip.get("call") and not sip.get("admin"):
        out.append("sip.call: not asked (its only call, CreateSIPParticipant, places a phone call)")
    if video.get("agent"):
        out.append("video.agent: not asked (workers register over the /agent WebSocket)")
    cloud = [family for family in CLOUD_ONLY if _grant(claims, family)]
    if cloud:
        out.append(f"{', '.join(cloud)}: not asked (LiveKit Cloud services; a self-hosted server has none)")
    return out
