"""Access tokens: minting them the way the SDKs do, and reading any token in plain words.

Minting uses PyJWT directly (the claims `AccessToken.to_jwt()` writes: HS256, iss = key,
sub = identity, nbf = now, exp, `video` grants): the same token, without importing
livekit.api, which keeps the offline checks fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from livekit_doctor.plugin import shorten

LEEWAY = 60  # seconds: what the server and TokenVerifier allow on exp/nbf

GRANT_MEANING = {
    "roomJoin": "join the room",
    "room": "which room",
    "roomCreate": "create and delete rooms",
    "roomList": "list rooms",
    "roomAdmin": "moderate the room (participants, tracks, metadata)",
    "roomRecord": "use egress (recording)",
    "ingressAdmin": "manage ingress",
    "canPublish": "publish tracks",
    "canSubscribe": "subscribe to tracks",
    "canPublishData": "send data messages",
    "canPublishSources": "which sources may be published",
    "canUpdateOwnMetadata": "update own metadata",
    "hidden": "be hidden from other participants",
    "recorder": "act as a recorder",
    "agent": "act as an agent",
}


def join_grants(room: str) -> dict[str, Any]:
    return {"roomJoin": True, "room": room, "canPublish": True, "canSubscribe": True, "canPublishData": True}


def admin_grants(room: str = "") -> dict[str, Any]:
    grants: dict[str, Any] = {"roomCreate": True, "roomList": True, "roomAdmin": True}
    if room:
        grants["room"] = room
    return grants


def mint(api_key: str, api_secret: str, *, identity: str, video: dict[str, Any], ttl: int = 600,
         now: float | None = None, name: str = "") -> str:
    """A LiveKit access token, as AccessToken(...).with_identity().with_grants().to_jwt() makes it."""
    import jwt

    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {"iss": api_key, "sub": identity, "nbf": issued, "exp": issued + ttl, "video": video}
    if name:
        claims["name"] = name
    return jwt.encode(claims, api_secret, algorithm="HS256")


class MalformedToken(ValueError):
    """Not a JWT at all (wrong number of parts, not base64/JSON)."""


@dataclass
class TokenInfo:
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: str  # "valid", "invalid", "unchecked"
    problems: list[str] = field(default_factory=list)

    @property
    def video(self) -> dict[str, Any]:
        return self.claims.get("video") or {}


def relative(seconds: float) -> str:
    """'5 h 59 min', '42 s'."""
    seconds = abs(int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def inspect_token(token: str, *, api_key: str | None = None, api_secret: str | None = None,
                  now: float | None = None) -> TokenInfo:
    """Decode without trusting; then check times, issuer, grants and (with a secret) the signature."""
    import jwt

    token = token.strip()
    try:
        header = jwt.get_unverified_header(token)
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.DecodeError as exc:
        raise MalformedToken(f"not a JWT: {exc}") from None
    now = time.time() if now is None else now
    problems = []
    if header.get("alg") != "HS256":
        problems.append(f"algorithm is {header.get('alg')!r}; LiveKit tokens are HS256")
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if not isinstance(exp, (int, float)):
        problems.append("no exp claim: the server requires one")
    elif exp + LEEWAY < now:
        problems.append(f"expired {relative(now - exp)} ago")
    if isinstance(nbf, (int, float)) and nbf - LEEWAY > now:
        problems.append(f"not valid yet: nbf is {relative(nbf - now)} in the future (clock skew?)")
    if api_key and claims.get("iss") != api_key:
        problems.append(f"issued for API key {shorten(str(claims.get('iss', '')))}, not the configured {shorten(api_key)}")
    video = claims.get("video") or {}
    if not video:
        problems.append("no video grant: it cannot join a room nor call the server API")
    elif video.get("roomJoin") and not video.get("room"):
        problems.append("roomJoin without a room")
    if video.get("roomJoin") and not claims.get("sub"):
        problems.append("roomJoin without an identity (sub)")
    signature = "unchecked"
    if api_secret:
        try:
            jwt.decode(token, api_secret, algorithms=["HS256"], options={"verify_exp": False, "verify_nbf": False,
                                                                         "verify_iat": False, "verify_aud": False})
            signature = "valid"
        except jwt.InvalidSignatureError:
            signature = "invalid"
            problems.append("signature does not match the configured API secret")
        except jwt.InvalidTokenError as exc:
            signature = "invalid"
            problems.append(f"signature not verifiable: {exc}")
    return TokenInfo(header=header, claims=claims, signature=signature, problems=problems)


def describe_grants(video: dict[str, Any]) -> list[str]:
    lines = []
    for name, value in video.items():
        meaning = GRANT_MEANING.get(name, "")
        lines.append(f"{name} = {value!r}" + (f" ({meaning})" if meaning else ""))
    return lines
