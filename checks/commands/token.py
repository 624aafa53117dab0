"""`livekit-doctor token [INPUT | -]`: every claim and grant of a token, what it can do, and the server's
verdict for each thing it is for (a join token asked of /rtc/validate, an admin token of the service its
grants open). The signature is never shown; metadata is cut short and redacted.
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any

import click

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.server.grants import (ServiceCall, capabilities, clip, grant_lines, not_asked,
                                                   participant_lines, service_calls)
from livekit_doctor.checks.plumbing.config.options import network_options, project_option, settings_options
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import UrlError, parse_url
from livekit_doctor.checks.plumbing.server.tokens import (MalformedToken, TokenInfo, extract_token, inspect_token, is_time,
                                                   relative)
from livekit_doctor.plugin import (Context, Result, Sink, failed, json_safe, make_context, passed, shorten, skipped,
                                  warned)

if TYPE_CHECKING:
    import aiohttp

SKEW_WARN = 5.0  # seconds between this machine's clock and the server's worth a line
JOIN = ServiceCall("/rtc/validate", "", "", {}, "video.roomJoin")
RESULT_IDS = {"video.roomJoin": "TK201", "video.roomList": "TK202", "video.roomCreate": "TK203",
              "video.roomAdmin": "TK204", "video.roomRecord": "TK205", "video.ingressAdmin": "TK206",
              "sip.admin": "TK207"}
PAD = " " * 12


def _when(value: Any, now: float) -> str:
    if not is_time(value):
        return "(not set)" if value is None else f"{clip(value)} (not a number)"
    try:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    except (OverflowError, OSError, ValueError):  # beyond what a calendar date can show
        return f"{value:g} (out of any date range)"
    return f"{stamp} ({'in ' + relative(value - now) if value > now else relative(now - value) + ' ago'})"


def _block(label: str, lines: list[str], empty: str = "(none)") -> str:
    return f"{label:<12}" + (f"\n{PAD}".join(lines) or empty)


def explain(info: TokenInfo, now: float) -> list[str]:
    """The decoded token in plain words: header, registered claims, participant and room claims, grants."""
    c = info.claims
    identity = c.get("sub") or (f"{c['jti']} (jti; sub is empty, the server falls back to jti)" if c.get("jti")
                                else "(none)")
    lines = [
        f"algorithm:  {info.header.get('alg')}" + (f", kid {clip(info.header['kid'], 40)}" if "kid" in info.header else ""),
        f"api key:    {shorten(str(c.get('iss', ''))) or '(none)'} (iss)",
        f"identity:   {identity}" + (" (sub)" if c.get("sub") else ""),
        f"not before: {_when(c.get('nbf'), now)}",
        f"expires:    {_when(c.get('exp'), now)}",
    ]
    if "iat" in c:
        lines.append(f"issued at:  {_when(c.get('iat'), now)}")
    lines.append(_block("claims:", participant_lines(c)))
    lines.append(_block("grants:", grant_lines(c)))
    lines.append(_block("can:", capabilities(c), "nothing: no grant lets it join a room or call the server API"))
    alg = info.header.get("alg")
    lines.append({"valid": f"signature:  valid for the configured API secret ({alg})",
                  "invalid": "signature:  does NOT match the configured API secret",
                  "unchecked": "signature:  not checked (no API secret configured)"}[info.signature])
    return lines


def local_results(info: TokenInfo) -> list[Result]:
    """TK101 (what the token says, judged offline) and TK102 (its signature)."""
    c = info.claims
    shown = {k: (clip(v, 200) if k in ("metadata", "roomConfig") else v) for k, v in c.items()}
    if isinstance(c.get("attributes"), dict):  # attribute values may hold anything too
        shown["attributes"] = {clip(k, 40): clip(v, 200) for k, v in c["attributes"].items()}
    facts = {"header": info.header, "claims": shown,
             "capabilities": capabilities(c)}
    if info.problems:
        decoded = failed("; ".join(info.problems), details="\n".join(info.warnings), facts=facts, code="refused-claims",
                         fix="Mint the token with an SDK (HS256, iss, sub, nbf, exp, the grants it needs).")
    elif info.warnings:
        decoded = warned("; ".join(info.warnings), facts=facts, code="verifier-warning")
    else:
        decoded = passed(f"{info.header.get('alg')} token for key {shorten(str(c.get('iss', '')))}: "
                         + "; ".join(capabilities(c)), facts=facts)
    if info.signature == "valid":
        signature = passed(f"the signature ({info.header.get('alg')}) matches the configured API secret")
    elif info.signature == "invalid":
        signature = failed("the signature does NOT match the configured API secret", code="wrong-secret",
                           fix="Mint with the secret that belongs to this key (no quotes, no trailing newline).")
    else:
        signature = skipped("no API secret configured: the signature is not checked")
    return [_stamp(decoded, "TK101", "Token decodes"), _stamp(signature, "TK102", "Signature")]


def _stamp(result: Result, check_id: str, title: str) -> Result:
    """The command's results as a run's: its IDs, and finding codes under them ("TK102.wrong-secret")."""
    findings = tuple(f.replace(code=f"{check_id}.{f.code}") for f in result.findings)
    return result.replace(check_id=check_id, title=title, area=Area.TOKEN, plugin="builtin", findings=findings)


async def _ask_one(session: "aiohttp.ClientSession", base: str, url: str, token: str,
                   call: ServiceCall) -> tuple[str, Result]:
    """One capability put to the server: its line and its Result."""
    from livekit_doctor.checks.plumbing.server.server_api import judge_twirp, judge_validate, twirp, validate

    if call is JOIN:
        status, body, _ = await validate(session, base, token)
        verdict = judge_validate(status, body)
    else:
        status, body = await twirp(session, base, token, call.method, call.body, service=call.service)
        verdict = judge_twirp(status, body)
    facts = {"status": status, "call": call.label, "grant": call.grant}
    title = f"Server: {call.label}"
    if not verdict.accepted:
        line = f"rejected by {url} (HTTP {status}): {verdict.text} ({call.label})"
        return line, _stamp(failed(line, facts=facts, code="rejected"), RESULT_IDS[call.grant], title)
    line = f"accepted by {url} ({call.label})" + ("" if verdict.text == "accepted" else f": {verdict.text}")
    result = warned(line, facts=facts, code="accepted-with-caveat") if verdict.warn else passed(line, facts=facts)
    return line, _stamp(result, RESULT_IDS[call.grant], title)


def _skew_line(date: str | None, sent: float, received: float) -> tuple[str, Result] | None:
    from email.utils import parsedate_to_datetime

    if not date:
        return None
    skew = parsedate_to_datetime(date).timestamp() - (sent + received) / 2
    if abs(skew) <= SKEW_WARN:
        return None
    text = (f"the server's clock is {abs(skew):.0f} s {'behind' if skew < 0 else 'ahead of'} this machine: it judges "
            "nbf and exp by its own clock, with 60 s of leeway")
    return text, _stamp(warned(text, facts={"skew_seconds": round(skew, 1)}, code="clock-skew"), "TK200", "Clock skew")


async def ask_server(ctx: Context, url: str, token: str, info: TokenInfo) -> tuple[list[str], list[Result]]:
    """Each capability of the token put to the server through the wing's HTTP client (--ca-file,
    --net-timeout); a token with no grant the server could judge is asked as a join token."""
    import asyncio
    import secrets

    import aiohttp

    from livekit_doctor.checks.plumbing.network.http_client import client_session
    from livekit_doctor.checks.plumbing.server.server_api import server_date

    try:
        base = parse_url(url).http_base
    except UrlError as exc:
        return [f"server:     not asked: {exc}"], [_stamp(skipped(f"not asked: {exc}"), "TK201", "Server")]
    calls = service_calls(info.claims, f"livekit-doctor-missing-{secrets.token_hex(4)}")
    if info.video.get("roomJoin") or not (calls or not_asked(info.claims)):
        calls.insert(0, JOIN)
    lines: list[str] = []
    results: list[Result] = []
    try:
        async with await client_session(ctx) as session:
            for call in calls:
                line, result = await _ask_one(session, base, url, token, call)
                lines.append(f"server:     {line}")
                results.append(result)
            sent = time.time()
            date = await server_date(session, base)
            skew = _skew_line(date, sent, time.time())
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        text = f"not reachable at {url} ({type(exc).__name__}: {exc})"
        return lines + [f"server:     {text}"], results + [_stamp(failed(text, code="unreachable"), "TK201", "Server")]
    lines += [f"server:     {text}" for text in not_asked(info.claims)]
    results += [_stamp(skipped(text), "TK209", "Server: not asked") for text in not_asked(info.claims)]
    if skew:
        lines.append(f"clock:      {skew[0]}")
        results.append(skew[1])
    return lines, results


def document(info: TokenInfo, results: list[Result], url: str | None, exit_code: int) -> dict[str, Any]:
    """The --format json document (docs/schema/token.schema.json): results shaped like a run's."""
    from importlib.metadata import version

    return {"schema_version": 1, "doctor_version": version("livekit-doctor"), "command": "token",
            "server": url, "exit_code": exit_code, "signature": info.signature,
            "header": info.header, "claims": results[0].facts["claims"],
            "capabilities": capabilities(info.claims), "results": [r.to_dict() for r in results]}


@click.command("token", params=[*settings_options(), *network_options(), project_option()])
@click.argument("token", required=False, default="-")
@click.option("--no-server", is_flag=True, help="Do not ask the server whether it accepts the token.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text for people; json shaped like a run's results (docs/schema/token.schema.json).")
def token(token: str, no_server: bool, fmt: str, **options: Any) -> None:
    """Explain a LiveKit access token: a JWT, 'Bearer <jwt>', a URL with ?access_token=, a JSON body with a
    token field, or '-' / nothing for stdin. The signature is never shown."""
    raw = sys.stdin.buffer.read(1_000_000).decode("utf-8", "replace") if token == "-" else token
    ctx = make_context(options)
    s = livekit_settings(ctx)
    now = time.time()
    try:
        jwt_text = extract_token(raw)
        ctx.redactor.add(jwt_text.rsplit(".", 1)[-1])
        info = inspect_token(jwt_text, api_key=s.api_key, api_secret=s.api_secret, now=now)
    except MalformedToken as exc:
        raise click.UsageError(ctx.redactor.redact(f"the token is malformed ({exc})")) from None
    lines = explain(info, now)
    results = local_results(info)
    if not no_server and s.url:
        import asyncio

        server_lines, server_results = asyncio.run(ask_server(ctx, s.url, jwt_text, info))
        lines += server_lines
        results += server_results
    lines += [f"problem:    {p}" for p in info.problems] + [f"warning:    {w}" for w in info.warnings]
    code = 1 if any(r.status.value in ("fail", "error") for r in results) else 0
    if fmt == "json":
        import json

        text = json.dumps(json_safe(ctx.redactor.scrub(document(info, results, s.url, code))), indent=2)
        Sink(fmt="json").echo(text)
    else:
        Sink().echo(ctx.redactor.redact("\n".join(lines)))
    click.get_current_context().exit(code)
