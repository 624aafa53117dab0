"""LK204-LK206: tokens minted with the configured credentials, the server's verdict on them, and clocks.

Tokens are minted here exactly as the SDKs mint them (plumbing/server/tokens.py) and asked of the server
through the same HTTP client every check uses (--ca-file, --net-timeout).
"""

from __future__ import annotations

import time
from email.utils import parsedate_to_datetime
from typing import Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.server.server_api import Refusal, classify, list_rooms, quoted, validate
from livekit_doctor.checks.plumbing.network.causes import UNREACHABLE
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import target
from livekit_doctor.checks.plumbing.server.tokens import LEEWAY, admin_grants, inspect_token, join_grants, mint
from livekit_doctor.plugin import Context, Result, check, code, failed, passed, shorten, skipped, warned

SKEW_WARN = 5.0  # seconds


@check("LK204", "Token minting and local verification", area=Area.CREDENTIALS, needs=("LK203",), timeout=5, codes=(
    code("cannot-mint", "PyJWT refuses to sign with the configured secret"),
    code("does-not-verify", "the token minted here does not verify here (claims or signature)"),
))
def token_round_trip(ctx: Context) -> Result:
    """Mint a join token with the configured key and secret and verify it as the server would."""
    s = livekit_settings(ctx)
    if not (s.api_key and s.api_secret):
        return skipped("no API key and secret to mint with (see LK201)", caused_by=("LK201",))
    try:
        token = mint(s.api_key, s.api_secret, identity="livekit-doctor", video=join_grants("doctor-probe"))
    except Exception as exc:  # PyJWT refuses some key material
        return failed(f"cannot mint a token: {type(exc).__name__}: {exc}", code="cannot-mint",
                      fix="Check LIVEKIT_API_SECRET: it must be the plain secret string from your server's keys.")
    info = inspect_token(token, api_key=s.api_key, api_secret=s.api_secret)
    claims = {k: v for k, v in info.claims.items() if k != "video"} | {"iss": shorten(s.api_key)}
    facts = {"header": info.header, "claims": claims, "grants": info.video, "signature": info.signature}
    if info.problems:
        return failed("the minted token does not verify: " + "; ".join(info.problems), facts=facts,
                      code="does-not-verify")
    return passed(f"HS256 token for key {shorten(s.api_key)} verifies locally (iss, sub, nbf, exp, roomJoin)",
                  facts=facts)


REFUSALS = tuple(code(r.value, f"the server refuses the doctor's own token: {r.value.replace('-', ' ')}",
                      explained_by={Refusal.NOT_YET_VALID: ("LK206.clock-behind",),
                                    Refusal.EXPIRED: ("LK206.clock-ahead",)}.get(r, ()))
                 for r in Refusal if r is not Refusal.ROOM_MISSING)


@check("LK205", "Server accepts tokens", area=Area.CREDENTIALS, needs=("LK204", "LK202"), timeout=10, codes=(
    *REFUSALS,
    code("unreachable", "the server cannot be reached to ask it", explained_by=UNREACHABLE),
    code("list-rooms-failed", "ListRooms answers neither 200 nor a refusal"),
    code("room-missing", "tokens are accepted but rooms are not auto-created: joining needs a room made first"),
    code("override-refused", "the winning key or secret is refused, the value it overrides is accepted (checked)"),
))
async def server_accepts(ctx: Context) -> Result:
    """A join token on /rtc/validate and an admin token on Twirp ListRooms, with the cause of any refusal."""
    s = livekit_settings(ctx)
    base = target(ctx).http_base
    key, secret = s.api_key, s.api_secret
    room = "doctor-validate"
    join = mint(key, secret, identity="livekit-doctor", video=join_grants(room))
    admin = mint(key, secret, identity="livekit-doctor", video=admin_grants())
    import asyncio

    session = await client_session(ctx)
    import aiohttp

    try:
        async with session:
            v_status, v_body, _ = await validate(session, base, join)
            t_status, t_body = await list_rooms(session, base, admin)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        return failed(f"cannot reach {base}: {type(exc).__name__}: {exc}", code="unreachable",
                      fix="See LK401-LK404 for the layer that fails.")
    facts = {"validate_status": v_status, "list_rooms_status": t_status, "key": shorten(key)}
    if v_status == 401 and t_status == 401:
        overridden = await _accepted_override(ctx, base)
        if overridden is not None:
            return overridden.replace(facts=facts)
    for what, status, body in (("ListRooms", t_status, t_body), ("/rtc/validate", v_status, v_body)):
        if status in (401, 403):
            why = classify(status, body)
            return failed(f"{what} refused (HTTP {status}): {why.cause}", fix=why.fix, facts=facts,
                          code=why.reason.value, evidence=[quoted(body, join, admin)])
    if t_status != 200:
        why = classify(t_status, t_body)
        return failed(f"ListRooms answered HTTP {t_status}: {why.cause}", fix=why.fix, facts=facts,
                      code="list-rooms-failed", evidence=[quoted(t_body, admin)])
    if v_status != 200:
        why = classify(v_status, v_body)
        if why.reason is Refusal.ROOM_MISSING:
            return warned(f"tokens accepted, but joining needs an existing room: {why.cause}", fix=why.fix,
                          facts=facts, code="room-missing")
        return failed(f"/rtc/validate answered HTTP {v_status}: {why.cause}", fix=why.fix, facts=facts,
                      code=why.reason.value, evidence=[quoted(v_body, join)])
    return passed(f"join token accepted by /rtc/validate and admin token by ListRooms (key {shorten(key)})", facts=facts)


async def _accepted_override(ctx: Context, base: str) -> Result | None:
    """When the winning key/secret are refused, try the values the winners overrode (a stale exported
    variable over a correct .env is common): if the server accepts one, the override is the cause."""
    from itertools import product

    s = livekit_settings(ctx)
    keys = list(dict.fromkeys(v.strip() for _, v in s.candidates.get("api_key", [])))
    secrets = list(dict.fromkeys(v.strip() for _, v in s.candidates.get("api_secret", [])))
    for key, secret in list(product(keys, secrets))[1:6]:  # the first pair is the one refused
        token = mint(key, secret, identity="livekit-doctor", video=join_grants("doctor-validate"))
        try:
            async with await client_session(ctx) as session:
                status, _, _ = await validate(session, base, token)
        except Exception:  # best effort: the refusal already stands on its own
            return None
        if status != 200:
            continue
        changed = [name for name, value in (("api_key", key), ("api_secret", secret)) if value != getattr(s, name)]
        winners = [s.sources[name] for name in changed]
        good = next(src for name in changed for src, v in s.candidates[name] if v.strip() == (key if name == "api_key"
                                                                                              else secret))
        exported = [w.removeprefix("env ") for w in winners if w.startswith("env ")]
        fix = (f"Unset {' and '.join(exported)} in the shell that runs the app (`unset {' '.join(exported)}`, and "
               "remove the export from ~/.bashrc, ~/.profile or the service's environment)" if exported
               else f"Remove the value from {', '.join(winners)}") + f": the value in {good} is the one this server accepts."
        return failed(f"the server refuses the {' and '.join(n.replace('_', ' ') for n in changed)} from "
                      f"{', '.join(winners)} but accepts the one in {good}, which it overrides", fix=fix,
                      code="override-refused", evidence=[f"checked: /rtc/validate accepts a token signed with the "
                                                         f"value in {good}"])
    return None


def skew_seconds(date_header: str, sent: float, received: float) -> float:
    """Server clock minus local clock, from an HTTP Date (1 s resolution) and the request's midpoint."""
    server = parsedate_to_datetime(date_header).timestamp()
    return server - (sent + received) / 2


@check("LK206", "Clock skew", area=Area.CREDENTIALS, needs=("LK202",), timeout=10, codes=(
    code("clock-behind", "the server's clock runs behind this machine's: fresh tokens are 'not valid yet' past the "
                         "60 s leeway"),
    code("clock-ahead", "the server's clock runs ahead: short-lived tokens expire early"),
))
async def clock_skew(ctx: Context) -> Result:
    """Compare this machine's clock with the server's Date header: tokens carry nbf = now."""
    import asyncio

    session = await client_session(ctx)
    import aiohttp

    try:
        async with session:
            sent = time.time()
            async with session.get(f"{target(ctx).http_base}/") as resp:
                received = time.time()
                date = resp.headers.get("Date")
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        return skipped(f"server not reachable ({type(exc).__name__}); see LK401-LK404")
    if not date:
        return skipped("the server sent no Date header")
    skew = skew_seconds(date, sent, received)
    facts: dict[str, Any] = {"skew_seconds": round(skew, 1), "server_date": date}
    if abs(skew) > SKEW_WARN:
        behind = skew < 0
        # past the server's leeway, fresh tokens are refused (behind) or short ones expire at once (ahead)
        make = failed if abs(skew) > LEEWAY else warned
        return make(
            f"the server's clock is {abs(skew):.0f} s {'behind' if behind else 'ahead of'} this machine",
            code="clock-behind" if behind else "clock-ahead", evidence=[f"server's Date: {date}"],
            details="Tokens carry nbf = the minting machine's now and the server allows 60 s of leeway: "
                    + ("a server running behind rejects fresh tokens as 'not valid yet'." if behind
                       else "a server running ahead expires short-lived tokens early."),
            fix="Sync both clocks with NTP (timedatectl set-ntp true; containers take the host's clock).",
            facts=facts,
        )
    return passed(f"clocks agree within {abs(skew):.1f} s (HTTP Date has 1 s resolution)", facts=facts)


CHECKS = [token_round_trip, server_accepts, clock_skew]
