"""LK205-LK206: does the server accept our tokens, and do our clocks agree?

The server's 401 bodies echo the token; they are matched, never copied unredacted (the
Redactor removes JWTs from every output as well).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from livekit_doctor.checks import DOCS_DIR  # noqa: F401  (where explain finds this module's pages)
from livekit_doctor.checks.imports import import_off_loop
from livekit_doctor.checks.settings import livekit_settings
from livekit_doctor.checks.tokens import admin_grants, join_grants, mint
from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.redact import shorten
from livekit_doctor.result import Result, failed, passed, skipped, warned

if TYPE_CHECKING:
    import aiohttp

SKEW_WARN = 5.0  # seconds


def http_base(url: str) -> str:
    """The server API's base URL for a client URL: ws->http, wss->https, no path."""
    parts = urlsplit(url.strip())
    scheme = {"ws": "http", "wss": "https"}.get(parts.scheme, parts.scheme)
    return urlunsplit((scheme, parts.netloc.rsplit("@", 1)[-1], "", "", ""))


@dataclass(frozen=True)
class Rejection:
    cause: str
    fix: str


# (substring of the server's answer, cause, fix); both server generations' wording (see livekit-facts)
CAUSES = (
    ("invalid api key", "the server does not know this API key",
     "Use a key listed in the server's `keys:` (or LIVEKIT_KEYS); LiveKit Cloud keys belong to one project."),
    ("signature is invalid", "wrong API secret: the server's signature check failed",
     "Copy the secret that belongs to this key again (no quotes, no trailing newline); key and secret may be swapped."),
    ("cryptographic primitive", "wrong API secret: the server's signature check failed",
     "Copy the secret that belongs to this key again (no quotes, no trailing newline); key and secret may be swapped."),
    ("token is expired", "the token is expired",
     "Mint tokens per session with a TTL longer than the session (AccessToken().with_ttl(...)); check the clock."),
    ("not valid yet", "the token is not valid yet (nbf in the server's future): clock skew",
     "Sync the clock of the machine that mints tokens (NTP; containers use the host clock)."),
    ("used before issued", "the token is not valid yet (iat in the server's future): clock skew",
     "Sync the clock of the machine that mints tokens (NTP)."),
    ("no permissions to access the room", "the token has no video grant",
     "Add grants: AccessToken(...).with_grants(VideoGrants(room_join=True, room=...))."),
    ("permissions denied", "permission denied: the token lacks the grant this call needs",
     "Joining needs roomJoin and room; ListRooms needs roomList; CreateRoom/DeleteRoom need roomCreate; "
     "other room calls need roomAdmin and room."),
    ("requested room does not exist", "the room does not exist and the server does not auto-create rooms",
     "Create the room with the server API (CreateRoom) before clients join, or set room.auto_create: true."),
    ("identity cannot be empty", "the token has no identity (sub)", "Set an identity: AccessToken().with_identity(...)."),
    ("no room name", "the token names no room", "Set the room in the grant: VideoGrants(room_join=True, room=...)."),
    ("invalid authorization token", "the server could not parse the token",
     "Send the JWT as it was minted (no quotes, no 'Bearer ' inside it)."),
)


def quoted(body: str, *tokens: str) -> str:
    """The server's answer for `details`: the tokens it echoes removed before shortening it."""
    for token in tokens:
        body = body.replace(token, "[token]")
    return "server said: " + " ".join(body.split())[:300]


def classify(status: int, body: str) -> Rejection:
    lowered = body.lower()
    for needle, cause, fix in CAUSES:
        if needle in lowered:
            return Rejection(cause, fix)
    return Rejection(f"unexpected answer HTTP {status}",
                     "Check that the URL points at a LiveKit server (see LK404) and read its log.")


async def validate(session: "aiohttp.ClientSession", base: str, token: str) -> tuple[int, str, str | None]:
    """GET /rtc/validate as a client would before joining: (status, body, Date header)."""
    async with session.get(f"{base}/rtc/validate", headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.text(), resp.headers.get("Date")


async def list_rooms(session: "aiohttp.ClientSession", base: str, token: str) -> tuple[int, str]:
    async with session.post(f"{base}/twirp/livekit.RoomService/ListRooms", json={},
                            headers={"Authorization": f"Bearer {token}"}) as resp:
        return resp.status, await resp.text()


def _session(ctx: Context, timeout: float) -> "aiohttp.ClientSession":
    import aiohttp

    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))


@check("LK205", "Server accepts tokens", area="credentials", needs=("LK204", "LK202"), timeout=10)
async def server_accepts(ctx: Context) -> Result:
    """A join token on /rtc/validate and an admin token on Twirp ListRooms, with the cause of any refusal."""
    await import_off_loop("aiohttp")
    import aiohttp

    s = livekit_settings(ctx)
    base = http_base(s.url)
    key, secret = s.api_key.strip(), s.api_secret.strip()
    room = "doctor-validate"
    join = mint(key, secret, identity="livekit-doctor", video=join_grants(room))
    admin = mint(key, secret, identity="livekit-doctor", video=admin_grants())
    try:
        async with _session(ctx, 8) as session:
            v_status, v_body, _ = await validate(session, base, join)
            t_status, t_body = await list_rooms(session, base, admin)
    except (aiohttp.ClientError, OSError) as exc:
        return failed(f"cannot reach {base}: {type(exc).__name__}: {exc}", fix="See LK401-LK404 for the layer that fails.")
    facts = {"validate_status": v_status, "list_rooms_status": t_status, "key": shorten(key)}
    for what, status, body in (("ListRooms", t_status, t_body), ("/rtc/validate", v_status, v_body)):
        if status in (401, 403):
            why = classify(status, body)
            return failed(f"{what} refused (HTTP {status}): {why.cause}", fix=why.fix, facts=facts,
                          details=quoted(body, join, admin))
    if t_status != 200:
        why = classify(t_status, t_body)
        return failed(f"ListRooms answered HTTP {t_status}: {why.cause}", fix=why.fix, facts=facts,
                      details=quoted(t_body, admin))
    if v_status == 404 and "room does not exist" in v_body:
        why = classify(v_status, v_body)
        return warned(f"tokens accepted, but joining needs an existing room: {why.cause}", fix=why.fix, facts=facts)
    if v_status != 200:
        why = classify(v_status, v_body)
        return failed(f"/rtc/validate answered HTTP {v_status}: {why.cause}", fix=why.fix, facts=facts,
                      details=quoted(v_body, join))
    return passed(f"join token accepted by /rtc/validate and admin token by ListRooms (key {shorten(key)})", facts=facts)


def skew_seconds(date_header: str, sent: float, received: float) -> float:
    """Server clock minus local clock, from an HTTP Date (1 s resolution) and the request's midpoint."""
    server = parsedate_to_datetime(date_header).timestamp()
    return server - (sent + received) / 2


@check("LK206", "Clock skew", area="credentials", needs=("LK202",), timeout=10)
async def clock_skew(ctx: Context) -> Result:
    """Compare this machine's clock with the server's Date header: tokens carry nbf = now."""
    await import_off_loop("aiohttp")
    import aiohttp

    s = livekit_settings(ctx)
    base = http_base(s.url)
    try:
        async with _session(ctx, 8) as session:
            sent = time.time()
            async with session.get(f"{base}/") as resp:
                received = time.time()
                date = resp.headers.get("Date")
    except (aiohttp.ClientError, OSError) as exc:
        return skipped(f"server not reachable ({type(exc).__name__}); see LK401-LK404")
    if not date:
        return skipped("the server sent no Date header")
    skew = skew_seconds(date, sent, received)
    facts: dict[str, Any] = {"skew_seconds": round(skew, 1), "server_date": date}
    if abs(skew) > SKEW_WARN:
        behind = skew < 0
        return warned(
            f"the server's clock is {abs(skew):.0f} s {'behind' if behind else 'ahead of'} this machine",
            details="Tokens carry nbf = the minting machine's now and the server allows 60 s of leeway: "
                    + ("a server running behind rejects fresh tokens as 'not valid yet'." if behind
                       else "a server running ahead expires short-lived tokens early."),
            fix="Sync both clocks with NTP (timedatectl set-ntp true; containers take the host's clock).",
            facts=facts,
        )
    return passed(f"clocks agree within {abs(skew):.1f} s (HTTP Date has 1 s resolution)", facts=facts)


CHECKS = [server_accepts, clock_skew]
