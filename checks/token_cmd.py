"""`livekit-doctor token [JWT | -]`: a token explained in plain words, and the server's verdict."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import click

from livekit_doctor.checks.settings import livekit_settings
from livekit_doctor.checks.tokens import MalformedToken, TokenInfo, describe_grants, inspect_token, relative
from livekit_doctor.context import Context
from livekit_doctor.redact import shorten


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


async def server_verdict(url: str, token: str) -> tuple[bool, str]:
    import aiohttp

    from livekit_doctor.checks.server_auth import classify, http_base, validate

    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=8)) as session:
            status, body, _ = await validate(session, http_base(url), token)
    except (aiohttp.ClientError, OSError) as exc:
        return False, f"server:     not reachable at {url} ({type(exc).__name__})"
    if status == 200:
        return True, f"server:     accepted by {url} (/rtc/validate)"
    return False, f"server:     rejected by {url} (HTTP {status}): {classify(status, body).cause}"


@click.command("token")
@click.argument("token", required=False, default="-")
@click.option("--url", help="Server to ask (default: the resolved LIVEKIT_URL).")
@click.option("--api-key", help="Expected API key (default: the resolved LIVEKIT_API_KEY).")
@click.option("--api-secret", help="Secret to check the signature with (default: LIVEKIT_API_SECRET).")
@click.option("--env-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--project", type=click.Path(file_okay=False, exists=True, path_type=Path), default=".")
@click.option("--no-server", is_flag=True, help="Do not ask the server whether it accepts the token.")
def token(token: str, url: str | None, api_key: str | None, api_secret: str | None, env_file: Path | None,
          project: Path, no_server: bool) -> None:
    """Explain a LiveKit access token (argument, or '-' / nothing for stdin). The signature is never shown."""
    raw = sys.stdin.read() if token == "-" else token
    options = {"url": url, "api_key": api_key, "api_secret": api_secret, "env_file": env_file}
    ctx = Context(project_dir=project.resolve(), options=options, env=dict(os.environ))
    s = livekit_settings(ctx)
    now = time.time()
    try:
        info = inspect_token(raw, api_key=s.api_key and s.api_key.strip(), api_secret=s.api_secret and s.api_secret.strip(),
                             now=now)
    except MalformedToken as exc:
        raise click.UsageError(f"the token is malformed ({exc})") from None
    lines = explain(info, now)
    ok = not info.problems
    if not no_server and s.url:
        import asyncio

        accepted, line = asyncio.run(server_verdict(s.url.strip(), raw.strip()))
        lines.append(line)
        ok = ok and accepted
    lines += [f"problem:    {p}" for p in info.problems]
    click.echo(ctx.redactor.redact("\n".join(lines)))
    click.get_current_context().exit(0 if ok else 1)
