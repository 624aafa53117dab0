"""LK502-LK503: the app's own session endpoint (`--app-endpoint`): its token, tested for real.

This is the scenario the project was born from: `POST /api/voice/session` answering
"Internal Server Error". The doctor calls the endpoint as the front end would, takes the
token and URL it returns, and checks that token like any other: claims, signature, the
server's verdict, and a real join of the room it names.
"""

from __future__ import annotations

import json
from typing import Any

import click

from livekit_doctor.checks.plumbing.app_endpoint import (DEFAULT_PAYLOAD, ROOM_FIELDS, TOKEN_FIELDS, URL_FIELDS,
                                                        call_endpoint, find_field)
from livekit_doctor.checks.plumbing.http_client import client_session
from livekit_doctor.checks.plumbing.server_api import classify, validate
from livekit_doctor.checks.plumbing.settings import livekit_settings
from livekit_doctor.checks.plumbing.target import UrlError, parse_url
from livekit_doctor.checks.plumbing.tokens import inspect_token
from livekit_doctor.plugin import Context, Result, Status, check, failed, import_off_loop, passed, shorten, skipped

def token_object(data: Any) -> dict[str, Any] | None:
    """An AccessToken serialised whole (a web framework encoding the object's attributes), if the answer holds one."""
    queue = [data]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            if any(k in node for k in ("api_secret", "apiSecret")) and any(k in node for k in ("api_key", "apiKey")):
                return node
            queue.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            queue.extend(node)
    return None


def related_problems(ctx: Context) -> list[Result]:
    """SDK and code-scan problems this run found, failures first: the usual reasons an endpoint answers 500."""
    relevant = [r for r in ctx.results.values()
                if r.area in ("sdk", "code") and r.status in (Status.FAIL, Status.ERROR, Status.WARN)]
    return sorted(relevant, key=lambda r: (-r.status.severity, r.check_id))


def finding_lines(problems: list[Result]) -> list[str]:
    found = []
    for result in problems:
        if result.locations:
            found += [f"{loc.path}:{loc.line}: {loc.message}" for loc in result.locations[:3]]
        else:
            found.append(f"{result.check_id}: {result.summary}")
    return found


@check("LK502", "App session endpoint", area="session", after=("area:sdk", "area:code"), timeout=30)
async def app_endpoint(ctx: Context) -> Result:
    """POST to --app-endpoint, find the token and URL, and check that token against the server."""
    import asyncio

    await import_off_loop("aiohttp")
    import aiohttp

    endpoint = ctx.option("app_endpoint")
    if not endpoint:
        return skipped("no --app-endpoint given")
    answer = await call_endpoint(ctx)
    if "error" in answer:
        return failed(f"POST {endpoint} failed: {answer['error']}", fix="Start the app, or check --app-endpoint.")
    status, text = answer["status"], answer["text"]
    facts: dict[str, Any] = {"endpoint": endpoint, "status": status}
    if status >= 300:
        problems = related_problems(ctx)
        related = finding_lines(problems)
        details = f"the app answered: {ctx.redactor.redact(' '.join(text.split()))[:200]}"  # redact, then cut
        if related:
            worst = problems[0].status.severity
            return failed(f"POST {endpoint} -> HTTP {status}; likely cause, found by this run: {related[0]}",
                          details=details + "\nrelated findings:\n" + "\n".join(related), facts=facts,
                          caused_by=tuple(r.check_id for r in problems if r.status.severity == worst),
                          fix="Fix the findings listed (see their checks), restart the app and run again.")
        return failed(f"POST {endpoint} -> HTTP {status}", details=details, facts=facts,
                      fix="Read the app's log for the exception; run the doctor with --project pointing at the app "
                          "so the SDK and code checks can point at the line.")
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return failed(f"POST {endpoint} -> HTTP {status} but the body is not JSON ({answer['content_type']})",
                      facts=facts, fix="Return JSON with the token and the server URL, e.g. {\"token\": ..., \"url\": ...}.")
    leaked = token_object(data)
    if leaked is not None:
        for name in ("api_secret", "apiSecret", "secret"):
            ctx.redactor.add(str(leaked.get(name) or ""))
        return failed("the app returns the AccessToken object instead of its .to_jwt(): its JSON carries the API "
                      "secret to every client", facts=facts,
                      details=f"the token field holds an object with {', '.join(sorted(map(str, leaked)))}",
                      fix="Return `token.to_jwt()` (the signed JWT string), not the AccessToken; then rotate the API "
                          "secret (`livekit-server generate-keys`, or a new key in LiveKit Cloud): it has been sent "
                          "to clients.")
    token = find_field(data, TOKEN_FIELDS)
    if not token:
        return failed(f"the answer has no token (looked for {', '.join(TOKEN_FIELDS)})",
                      details=f"fields: {sorted(data) if isinstance(data, dict) else type(data).__name__}", facts=facts,
                      fix="Return the participant token under one of those names.")
    ctx.redactor.add(token)
    s = livekit_settings(ctx)
    app_url = find_field(data, URL_FIELDS)
    facts |= {"url": app_url, "room": find_field(data, ROOM_FIELDS)}
    info = inspect_token(token, api_key=s.api_key, api_secret=s.api_secret)
    facts["token"] = {"iss": shorten(str(info.claims.get("iss", ""))), "sub": info.claims.get("sub"),
                      "grants": info.video, "signature": info.signature}
    problems = list(info.problems)
    granted = info.video.get("room")
    if facts["room"] and granted and facts["room"] != granted:
        problems.append(f"it grants room {granted!r} but the app returned room {facts['room']!r}: the client joins "
                        "another room than the one the app prepared (and its agent)")
    url = app_url or s.url
    try:
        server = parse_url(url or "")
    except UrlError as exc:
        return failed(f"the app's token cannot be checked: {exc}", facts=facts,
                      fix="Return the URL clients should use (ws[s]://host[:port]) with the token, or set LIVEKIT_URL.")
    if app_url and s.url and server.http_base != _http_base_or_none(s.url):
        problems.append(f"the app hands out {app_url} but this setup's LIVEKIT_URL is {s.url}")
    try:
        async with await client_session(ctx) as session:
            v_status, v_body, _ = await validate(session, server.http_base, token)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        problems.append(f"the server at {url} is not reachable ({type(exc).__name__})")
        v_status, v_body = 0, ""
    facts["validate_status"] = v_status
    rejection = classify(v_status, v_body) if v_status and v_status != 200 else None
    if rejection is not None:
        problems.append(f"the server at {url} rejects it (HTTP {v_status}): {rejection.cause}")
    if problems:
        return failed(f"the app's token: {'; '.join(problems)}", facts=facts,
                      fix=_app_token_fix(problems, rejection, s.sources.get("api_secret", "LIVEKIT_API_SECRET")))
    return passed(f"POST {endpoint} -> {status}: token for {info.claims.get('sub')!r} in room "
                  f"{info.video.get('room')!r} accepted by {url}", facts=facts)


@check("LK503", "App token joins the room", area="session", needs=("LK502",), timeout=20)
async def app_token_joins(ctx: Context) -> Result:
    """Join the room with the app's own token (rtc SDK), as the app's client would, then leave."""
    import asyncio

    try:
        await import_off_loop("livekit.rtc")
        from livekit import rtc
    except ImportError:
        return skipped("the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]'")
    answer = await call_endpoint(ctx)
    data = json.loads(answer["text"])
    token = find_field(data, TOKEN_FIELDS)
    url = find_field(data, URL_FIELDS) or livekit_settings(ctx).url
    room = rtc.Room()
    try:
        await asyncio.wait_for(room.connect(url, token, rtc.RoomOptions(auto_subscribe=False)), 10)
        joined = room.name
    except (rtc.ConnectError, asyncio.TimeoutError) as exc:
        return failed(f"joining {url} with the app's token failed: {type(exc).__name__}: {exc}",
                      fix="See LK501 for media and LK405 for signalling with the doctor's own token.")
    finally:
        try:
            await asyncio.wait_for(room.disconnect(), 3)
        except Exception:  # never connected
            pass
    return passed(f"joined room {joined!r} at {url} with the app's token and left")


def _app_token_fix(problems: list[str], rejection: Any, secret_source: str) -> str:
    """The fix for the app's token, for the cause found (the first that applies), not a list of maybes."""
    text = " ".join(problems)
    if "signature does not match" in text or (rejection is not None and "secret" in rejection.cause):
        return (f"The app signs tokens with another secret than the server's: give the app the same "
                f"LIVEKIT_API_SECRET this run used ({secret_source}) and restart it.")
    if "API key" in text or (rejection is not None and "API key" in rejection.cause):
        return "The app mints with an API key the server does not know: give it the server's LIVEKIT_API_KEY."
    if "expired" in text:
        return ("Mint each token when the session starts, with a TTL longer than the session: "
                "api.AccessToken(...).with_ttl(datetime.timedelta(hours=2)); check the app machine's clock.")
    if "not valid yet" in text:
        return "The app's clock is ahead of the server's: sync it with NTP (containers use the host's clock)."
    if "but the app returned room" in text:
        return ("Mint the token for the room the app created and returns: "
                "VideoGrants(room_join=True, room=<that room's name>).")
    if "hands out" in text:
        return "Return the URL clients should use: the server's LIVEKIT_URL (wss:// in production)."
    if rejection is not None:
        return rejection.fix
    return "Mint the token in the app with the key and secret the server has (see LK205) and return the server's URL."


def _http_base_or_none(url: str) -> str | None:
    try:
        return parse_url(url).http_base
    except UrlError:
        return None


class JsonObject(click.ParamType):
    name = "JSON"

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as exc:
            self.fail(f"not valid JSON: {exc}", param, ctx)
        except RecursionError:
            self.fail("nested too deeply", param, ctx)
        if not isinstance(parsed, dict):
            self.fail("must be a JSON object", param, ctx)
        return value


CHECKS = [app_endpoint, app_token_joins]
OPTIONS = [
    click.Option(["--app-endpoint"], metavar="URL", help="Your backend's session endpoint to test (POST)."),
    click.Option(["--app-payload"], type=JsonObject(), metavar="JSON",
                 help=f"JSON body for --app-endpoint (default: {json.dumps(DEFAULT_PAYLOAD)})."),
]
