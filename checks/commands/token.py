"""`livekit-doctor token [JWT | -]`: a token explained in plain words, and the server's verdict."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from livekit_doctor.checks.plumbing.options import network_options, project_option, settings_options
from livekit_doctor.checks.plumbing.settings import livekit_settings
from livekit_doctor.checks.plumbing.target import UrlError, parse_url
from livekit_doctor.checks.plumbing.tokens import MalformedToken, TokenInfo, describe_grants, inspect_token, relative
from livekit_doctor.plugin import Context, Sink, make_context, shorten

def _when(value: Any, now: float) -> str:
    if not isinstance(value, (int, float)):
        return "(not set)"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    return f"{stamp} ({'in ' + relative(value - now) if value > now else relative(now - value) + ' ago'})"


def explain(info: TokenInfo, now: float) -> list[str]:
    c = info.claims
    lines = [
        f"algorithm:  {info.header.get('alg')}",
        f"api key:    {shorten(str(c.get('iss', '')))} (iss)",
        f"identity:   {c.get('sub') or '(none)'} (sub)" + (f", name {c['name']!r}" if c.get("name") else ""),
        f"not before: {_when(c.get('nbf'), now)}",
        f"expires:    {_when(c.get('exp'), now)}",
        "grants:     " + ("\n            ".join(describe_grants(info.video)) or "(none)"),
    ]
    extra = sorted(set(c) - {"iss", "sub", "nbf", "exp", "video", "name", "jti"})
    if extra:
        lines.append(f"other:      {', '.join(extra)}")
    lines.append({"valid": "signature:  valid for the configured API secret",
                  "invalid": "signature:  does NOT match the configured API secret",
                  "unchecked": "signature:  not checked (no API secret configured)"}[info.signature])
    return lines


async def server_verdict(ctx: Context, url: str, token: str) -> tuple[bool, str]:
    """What /rtc/validate says of the token, through the wing's HTTP client (--ca-file, --net-timeout)."""
    import asyncio

    import aiohttp

    from livekit_doctor.checks.plumbing.http_client import client_session
    from livekit_doctor.checks.plumbing.server_api import classify, validate

    try:
        base = parse_url(url).http_base
    except UrlError as exc:
        return False, f"server:     not asked: {exc}"
    try:
        async with await client_session(ctx) as session:
            status, body, _ = await validate(session, base, token)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        return False, f"server:     not reachable at {url} ({type(exc).__name__}: {exc})"
    if status == 200:
        return True, f"server:     accepted by {url} (/rtc/validate)"
    return False, f"server:     rejected by {url} (HTTP {status}): {classify(status, body).cause}"


@click.command("token", params=[*settings_options(), *network_options(), project_option()])
@click.argument("token", required=False, default="-")
@click.option("--no-server", is_flag=True, help="Do not ask the server whether it accepts the token.")
def token(token: str, no_server: bool, **options: Any) -> None:
    """Explain a LiveKit access token (argument, or '-' / nothing for stdin). The signature is never shown."""
    raw = sys.stdin.read() if token == "-" else token
    ctx = make_context(options)
    s = livekit_settings(ctx)
    now = time.time()
    try:
        info = inspect_token(raw, api_key=s.api_key, api_secret=s.api_secret, now=now)
    except MalformedToken as exc:
        raise click.UsageError(f"the token is malformed ({exc})") from None
    lines = explain(info, now)
    ok = not info.problems
    if not no_server and s.url:
        import asyncio

        accepted, line = asyncio.run(server_verdict(ctx, s.url, raw.strip()))
        lines.append(line)
        ok = ok and accepted
    lines += [f"problem:    {p}" for p in info.problems]
    Sink().echo(ctx.redactor.redact("\n".join(lines)))
    click.get_current_context().exit(0 if ok else 1)
