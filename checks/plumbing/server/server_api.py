"""The server API as the checks call it, and what its refusals mean.

The server's 401 bodies echo the token; they are matched, never copied unredacted (`quoted`
removes the tokens, and the Redactor removes JWTs from every output as well).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp


class Refusal(str, enum.Enum):
    """Why the server refused a token, as a finding code names it (LK205.wrong-secret, LK502.wrong-secret)."""

    SIGNING_METHOD = "signing-method"
    UNKNOWN_KEY = "unknown-key"
    WRONG_SECRET = "wrong-secret"
    EXPIRED = "expired"
    NOT_YET_VALID = "not-yet-valid"
    NO_VIDEO_GRANT = "no-video-grant"
    PERMISSION_DENIED = "permission-denied"
    ROOM_MISSING = "room-missing"
    NO_IDENTITY = "no-identity"
    NO_ROOM = "no-room"
    UNPARSABLE = "unparsable-token"
    UNEXPECTED = "unexpected-answer"

    @property
    def timing(self) -> bool:
        """A refusal about time: clock skew may be the real cause."""
        return self in (Refusal.EXPIRED, Refusal.NOT_YET_VALID)


@dataclass(frozen=True)
class Rejection:
    reason: Refusal
    cause: str
    fix: str

    @property
    def timing(self) -> bool:
        return self.reason.timing


WRONG_SECRET_FIX = ("Copy the secret that belongs to this key again (no quotes, no trailing newline); key and secret "
                    "may be swapped.")
# (substring of the server's answer, reason, cause, fix); both server generations' wording (see livekit-facts)
CAUSES = (
    ("signing method", Refusal.SIGNING_METHOD,
     "the server accepts only HS256 tokens: this one is signed with another algorithm",
     "Mint with HS256, as every LiveKit SDK does (jwt.encode(..., algorithm='HS256'))."),
    ("invalid api key", Refusal.UNKNOWN_KEY, "the server does not know this API key",
     "Use a key listed in the server's `keys:` (or LIVEKIT_KEYS); LiveKit Cloud keys belong to one project."),
    ("signature is invalid", Refusal.WRONG_SECRET, "wrong API secret: the server's signature check failed",
     WRONG_SECRET_FIX),
    ("cryptographic primitive", Refusal.WRONG_SECRET, "wrong API secret: the server's signature check failed",
     WRONG_SECRET_FIX),
    ("token is expired", Refusal.EXPIRED, "the token is expired",
     "Mint tokens per session with a TTL longer than the session (AccessToken().with_ttl(...)); check the clock."),
    ("not valid yet", Refusal.NOT_YET_VALID, "the token is not valid yet (nbf in the server's future): clock skew",
     "Sync the clock of the machine that mints tokens (NTP; containers use the host clock)."),
    ("used before issued", Refusal.NOT_YET_VALID,
     "the token is not valid yet (iat in the server's future): clock skew",
     "Sync the clock of the machine that mints tokens (NTP)."),
    ("no permissions to access the room", Refusal.NO_VIDEO_GRANT, "the token has no video grant",
     "Add grants: AccessToken(...).with_grants(VideoGrants(room_join=True, room=...))."),
    ("permissions denied", Refusal.PERMISSION_DENIED, "permission denied: the token lacks the grant this call needs",
     "Joining needs roomJoin and room; ListRooms needs roomList; CreateRoom/DeleteRoom need roomCreate; "
     "other room calls need roomAdmin and room."),
    ("requested room does not exist", Refusal.ROOM_MISSING,
     "the room does not exist and the server does not auto-create rooms",
     "Create the room with the server API (CreateRoom) before clients join, or set room.auto_create: true."),
    ("identity cannot be empty", Refusal.NO_IDENTITY, "the token has no identity (sub)",
     "Set an identity: AccessToken().with_identity(...)."),
    ("no room name", Refusal.NO_ROOM, "the token names no room",
     "Set the room in the grant: VideoGrants(room_join=True, room=...)."),
    ("invalid authorization token", Refusal.UNPARSABLE, "the server could not parse the token",
     "Send the JWT as it was minted (no quotes, no 'Bearer ' inside it)."),
)


@dataclass(frozen=True)
class Verdict:
    """The server's answer to one call made with a token: did the token pass, and in the server's words why."""

    accepted: bool
    text: str  # "accepted", what the service added after accepting, or the cause of the refusal
    warn: bool = False  # accepted, but what the token is for will not work as it stands


def judge_validate(status: int, body: str) -> Verdict:
    """/rtc/validate's answer for a join token."""
    if status == 200:
        return Verdict(True, "accepted")
    if status == 404 and classify(status, body).reason is Refusal.ROOM_MISSING:
        return Verdict(True, f"but {classify(status, body).cause}", warn=True)
    return Verdict(False, classify(status, body).cause)


def judge_twirp(status: int, body: str) -> Verdict:
    """A Twirp call's answer: any answer other than unauthenticated/permission_denied means the token's
    auth passed (a missing room, or a service that needs Redis on a single node, is the service speaking)."""
    import json

    if status == 200:
        return Verdict(True, "accepted")
    try:
        data = json.loads(body)
        code, msg = str(data.get("code", "")), " ".join(str(data.get("msg", "")).split())
    except (ValueError, AttributeError):
        code, msg = "", ""
    if code and code not in ("unauthenticated", "permission_denied", "bad_route", "malformed"):
        msg = msg.removeprefix("twirp error unknown: ")
        if "redis required" in msg:
            return Verdict(True, f"auth passed; the service itself needs Redis: {msg!r}")
        return Verdict(True, f"auth passed; the service answered {code}: {msg!r}")
    return Verdict(False, classify(status, body).cause)


def quoted(body: str, *tokens: str) -> str:
    """The server's answer for `details`: the tokens it echoes removed before shortening it."""
    for token in tokens:
        body = body.replace(token, "[token]")
    return "server said: " + " ".join(body.split())[:300]


def classify(status: int, body: str) -> Rejection:
    lowered = body.lower()
    for needle, reason, cause, fix in CAUSES:
        if needle in lowered:
            return Rejection(reason, cause, fix)
    return Rejection(Refusal.UNEXPECTED, f"unexpected answer HTTP {status}",
                     "Check that the URL points at a LiveKit server (see LK404) and read its log.")


async def validate(session: "aiohttp.ClientSession", base: str, token: str) -> tuple[int, str, str | None]:
    """GET /rtc/validate as a client would before joining: (status, body, Date header)."""
    async with session.get(f"{base}/rtc/validate", headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.text(), resp.headers.get("Date")


async def twirp(session: "aiohttp.ClientSession", base: str, token: str, method: str,
                body: dict[str, Any] | None = None, service: str = "RoomService") -> tuple[int, str]:
    """POST a Twirp JSON call, as livekit-api does: (status, body)."""
    async with session.post(f"{base}/twirp/livekit.{service}/{method}", json=body or {},
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.text()


async def list_rooms(session: "aiohttp.ClientSession", base: str, token: str) -> tuple[int, str]:
    return await twirp(session, base, token, "ListRooms")


async def server_date(session: "aiohttp.ClientSession", base: str) -> str | None:
    """The Date header of GET / (the server's clock, 1 s resolution)."""
    async with session.get(f"{base}/") as resp:
        return resp.headers.get("Date")
