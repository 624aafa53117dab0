"""Access tokens: minting them the way the SDKs do, reading what people paste, and judging a token
the way the server and the SDKs' verifiers really do.

Minting uses PyJWT directly (the claims `AccessToken.to_jwt()` writes: HS256, iss = key,
sub = identity, nbf = now, exp, `video` grants): the same token, without importing
livekit.api, which keeps the offline checks fast.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from livekit_doctor.plugin import shorten

LEEWAY = 60  # seconds: what the server and the Python TokenVerifier allow on exp/nbf
NODE_LEEWAY = 10  # seconds: the Node TokenVerifier's default clockTolerance
SERVER_ALGORITHMS = ("HS256",)  # the server's allowedSigningMethods
HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
TOKEN_FIELDS = ("token", "accessToken", "access_token", "participantToken", "participant_token", "jwt")
QUERY_FIELDS = ("access_token", "token")


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
    """Not a JWT at all (wrong number of parts, not base64/JSON), or nothing token-like pasted."""


@dataclass
class TokenInfo:
    header: dict[str, Any]
    claims: dict[str, Any]
    signature: str  # "valid", "invalid", "unchecked"
    problems: list[str] = field(default_factory=list)  # the server refuses the token, or a verifier does for a reason it will meet
    warnings: list[str] = field(default_factory=list)  # accepted today, but fragile or refused by the SDKs' verifiers

    @property
    def video(self) -> dict[str, Any]:
        video = self.claims.get("video")
        return video if isinstance(video, dict) else {}


def relative(seconds: float) -> str:
    """'5 h 59 min', '42 s'."""
    seconds = abs(int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    hours, minutes = divmod(seconds // 60, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d" if days else "", f"{hours} h" if hours else "", f"{minutes} min" if minutes else ""]
    return " ".join(p for p in parts if p)


def extract_token(text: str) -> str:
    """The JWT inside what people paste: `Bearer <jwt>`, a quoted token, a URL with ?access_token= or
    token=, a JSON body with a token field, or the token itself. MalformedToken says what was not found."""
    import json
    from urllib.parse import parse_qs, urlsplit

    text = text.strip()
    for _ in range(2):  # '"Bearer <jwt>"' as well as 'Bearer "<jwt>"'
        if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'`":
            text = text[1:-1].strip()
        if text.lower().startswith("authorization:"):
            text = text.split(":", 1)[1].strip()
        if text.lower().startswith("bearer "):
            text = text[7:].strip()
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise MalformedToken(f"the input looks like JSON but does not parse ({exc.msg})") from None
        except RecursionError:
            raise MalformedToken("the input looks like JSON but is nested too deeply to be a token's answer") from None
        found = next((data[k] for k in TOKEN_FIELDS if isinstance(data, dict) and isinstance(data.get(k), str)), None)
        if found is None:
            raise MalformedToken(f"the JSON has no token field (looked for {', '.join(TOKEN_FIELDS)})")
        return extract_token(found)
    if "://" in text or text.startswith(("?", "/")) or "access_token=" in text or "token=" in text:
        query = parse_qs(urlsplit(text).query or urlsplit(text).fragment or text.lstrip("?"))
        found = next((query[k][0] for k in QUERY_FIELDS if query.get(k)), None)
        if found is None:
            raise MalformedToken(f"the URL carries no {' or '.join(QUERY_FIELDS)} parameter")
        return found.strip()
    return text


def _check_times(claims: dict[str, Any], now: float, problems: list[str], warnings: list[str]) -> None:
    exp, nbf = claims.get("exp"), claims.get("nbf")
    if "exp" not in claims:
        warnings.append("no exp: the server accepts it and it never expires, but the SDKs' TokenVerifier "
                        "(livekit-api, livekit-server-sdk) refuse a token without exp")
    elif not is_time(exp):
        problems.append(f"exp is not a number ({exp!r:.40}): the server cannot parse the token")
    elif exp + LEEWAY < now:
        problems.append(f"expired {relative(now - exp)} ago")
    elif exp < now:
        warnings.append(f"expired {relative(now - exp)} ago: the server still accepts it within its {LEEWAY} s "
                        f"leeway (the Node TokenVerifier allows {NODE_LEEWAY} s)")
    if "nbf" in claims and not is_time(nbf):
        problems.append(f"nbf is not a number ({nbf!r:.40}): the server cannot parse the token")
    elif is_time(nbf) and nbf - LEEWAY > now:
        problems.append(f"not valid yet: nbf is {relative(nbf - now)} in the future (clock skew?)")
    elif is_time(nbf) and nbf - NODE_LEEWAY > now:
        warnings.append(f"nbf is {relative(nbf - now)} in the future: the server accepts it within {LEEWAY} s, "
                        f"the Node TokenVerifier only within {NODE_LEEWAY} s (clock skew?)")


def _check_grants(claims: dict[str, Any], problems: list[str], warnings: list[str]) -> None:
    from livekit_doctor.checks.plumbing.server.grants import capabilities

    video = claims.get("video") if isinstance(claims.get("video"), dict) else {}
    identity = claims.get("sub") or claims.get("jti")
    if not capabilities(claims):
        if video.get("roomJoin") is False:
            problems.append("roomJoin is false: it cannot join a room (the server answers 'permissions denied')")
        elif video:
            problems.append(f"no roomJoin: it cannot join room {video.get('room', '(none)')!r} nor call the server "
                            "API (the server answers 'permissions denied')")
        else:
            problems.append("no grants: it cannot join a room nor call the server API")
    if video.get("roomJoin") and not video.get("room"):
        problems.append("roomJoin without a room (the server answers 'no room name')")
    if video.get("roomJoin") and not identity:
        problems.append("roomJoin without an identity (sub): the server answers 'identity cannot be empty'")
    if video.get("roomAdmin") and not video.get("room"):
        warnings.append("roomAdmin without a room: every call naming a room is refused ('permissions denied')")


def _part(text: str, name: str) -> dict[str, Any]:
    """One base64url JSON object of a JWT, decoded without trusting it (any types, NaN included)."""
    import base64
    import binascii
    import json

    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, RecursionError) as exc:
        raise MalformedToken(f"not a JWT: its {name} is not base64url JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise MalformedToken(f"not a JWT: its {name} is a JSON {type(data).__name__}, not an object")
    return data


def _signed_with(parts: list[str], secret: str, alg: str) -> bool:
    """Whether the signature is the HMAC of header.payload with `secret` (what the server computes)."""
    import base64
    import binascii
    import hashlib
    import hmac

    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), digest).digest()
    try:
        given = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected, given)


def is_time(value: Any) -> bool:
    """A NumericDate the server can read: a finite number (JSON true is not one)."""
    import math

    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def inspect_token(token: str, *, api_key: str | None = None, api_secret: str | None = None,
                  now: float | None = None) -> TokenInfo:
    """Decode without trusting; then judge algorithm, times, issuer, grants and (with a secret) the signature
    as the server v1.13 and the SDKs' verifiers do."""
    token = token.strip()
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken(f"not a JWT: {len(parts)} part{'' if len(parts) == 1 else 's'} separated by '.', "
                             "not 3 (header.payload.signature)")
    header, claims = _part(parts[0], "header"), _part(parts[1], "payload")
    now = time.time() if now is None else now
    problems: list[str] = []
    warnings: list[str] = []
    alg = header.get("alg")
    if alg not in SERVER_ALGORITHMS:
        problems.append(f"algorithm {alg}: the server accepts only HS256 (it answers 'signing method {alg} is invalid')")
    _check_times(claims, now, problems, warnings)
    iss = claims.get("iss")
    if not iss:
        problems.append("no iss (API key): the server answers 'invalid API key'")
    elif api_key and iss != api_key:
        problems.append(f"issued for API key {shorten(str(iss))}, not the configured {shorten(api_key)}")
    _check_grants(claims, problems, warnings)
    if "kid" in header and not isinstance(header["kid"], str):
        problems.append(f"the header's kid is {type(header['kid']).__name__}, not a string: the server cannot "
                        "parse the token")
    signature = "unchecked"
    if api_secret:
        if _signed_with(parts, api_secret, alg if alg in HMAC_ALGORITHMS else "HS256"):
            signature = "valid"
        else:
            signature = "invalid"
            problems.append("signature does not match the configured API secret")
    return TokenInfo(header=header, claims=claims, signature=signature, problems=problems, warnings=warnings)
