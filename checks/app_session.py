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

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.app.app_endpoint import (DEFAULT_PAYLOAD, ROOM_FIELDS, TOKEN_FIELDS, URL_FIELDS,
                                                        another_callers_identity, call_endpoint, find_field)
from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.server.server_api import Refusal, classify, quoted, validate
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.config.target import UrlError, parse_url, same_server
from livekit_doctor.checks.plumbing.server.tokens import inspect_token
from livekit_doctor.checks.plumbing.network.causes import UNREACHABLE
from livekit_doctor.plugin import (Context, Finding, Result, Severity, check, code, failed, finding, import_off_loop,
                                   judged, passed, shorten, skipped)

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


def related_problems(ctx: Context) -> list[Finding]:
    """SDK and code-scan findings this run made, failures first: the usual reasons an endpoint answers 500."""
    relevant = [f for r in ctx.results.values() if r.area in (Area.SDK, Area.CODE) for f in r.problems]
    return sorted(relevant, key=lambda f: (-f.severity.rank, f.code))


def finding_lines(problems: list[Finding]) -> list[str]:
    found = []
    for f in problems:
        if f.locations:
            found += [f"{loc.path}:{loc.line}: {loc.message}" for loc in f.locations[:3]]
        else:
            found.append(f"{f.code}: {f.message}")
    return found


APP_REFUSAL_FIXES = {  # the server's reason for refusing the app's token -> what to change in the app
    Refusal.WRONG_SECRET: "The app signs tokens with another secret than the server's: give the app the same "
                          "LIVEKIT_API_SECRET this run used ({secret_source}) and restart it.",
    Refusal.UNKNOWN_KEY: "The app mints with an API key the server does not know: give it the server's "
                         "LIVEKIT_API_KEY.",
    Refusal.EXPIRED: "Mint each token when the session starts, with a TTL longer than the session: "
                     "api.AccessToken(...).with_ttl(datetime.timedelta(hours=2)); check the app machine's clock.",
    Refusal.NOT_YET_VALID: "The app's clock is ahead of the server's: sync it with NTP (containers use the host's "
                           "clock).",
}
TOKEN_CODES = tuple(code(r.value, f"the server refuses the app's token: {r.value.replace('-', ' ')}",
                         explained_by=(f"LK205.{r.value}",) if r.timing else ())
                    for r in Refusal)


@check("LK502", "App session endpoint", area=Area.SESSION, after=(f"area:{Area.SDK}", f"area:{Area.CODE}"),
       timeout=30, codes=(
    code("endpoint-unreachable", "nothing answers at the app's endpoint (the app is not running, or another URL)"),
    code("endpoint-timeout", "the app accepts the connection but never answers (a handler stuck on a blocking call)"),
    code("http-error", "the endpoint answers an HTTP error (often 500: an exception in the app)"),
    code("not-json", "the endpoint's answer is not JSON"),
    code("token-object", "the app returns the AccessToken object (with the API secret) instead of its JWT"),
    code("no-token", "the answer holds no token"),
    code("unusable-url", "the app's URL (or LIVEKIT_URL) cannot be used to check the token"),
    code("token-problem", "the app's token has a problem the server will meet (claims, grants, key)"),
    code("room-mismatch", "the token grants another room than the one the app returns"),
    code("url-mismatch", "the app hands out another server URL than this setup's LIVEKIT_URL"),
    code("server-unreachable", "the server the app's token is for cannot be reached",
         explained_by=(*UNREACHABLE, "LK502.url-mismatch")),
    code("shared-identity", "two different callers get the same identity: each join evicts the previous one"),
    code("cannot-publish", "the token forbids publishing (canPublish false, or no microphone source): the caller "
                           "is never heard"),
    code("cannot-subscribe", "the token forbids subscribing: the caller never hears the room (or its agent)"),
    code("cannot-publish-data", "the token forbids data messages, which agents use for text and RPC"),
    *TOKEN_CODES,
))
async def app_endpoint(ctx: Context) -> Result:
    """POST to --app-endpoint, find the token and URL, and check that token against the server."""
    import asyncio

    await import_off_loop("aiohttp")
    import aiohttp

    endpoint = wing_options(ctx).app_endpoint
    if not endpoint:
        return skipped("no --app-endpoint given")
    answer = await call_endpoint(ctx)
    if answer.get("timed_out"):
        return failed(f"POST {endpoint}: the app accepted the connection but sent {answer['error']}",
                      code="endpoint-timeout", fix="The app is stuck on this request: look for a blocking call in an "
                      "async handler (a sync SDK or HTTP call, time.sleep) or an await that never returns, in its log "
                      "or with py-spy dump --pid <app's pid>.")
    if "error" in answer:
        return failed(f"POST {endpoint} failed: {answer['error']}", fix="Start the app, or check --app-endpoint.",
                      code="endpoint-unreachable")
    status, text = answer["status"], answer["text"]
    facts: dict[str, Any] = {"endpoint": endpoint, "status": status}
    if status >= 300:
        return _http_error(ctx, endpoint, status, text, facts)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return failed(f"POST {endpoint} -> HTTP {status} but the body is not JSON ({answer['content_type']})",
                      facts=facts, code="not-json",
                      fix="Return JSON with the token and the server URL, e.g. {\"token\": ..., \"url\": ...}.")
    leaked = token_object(data)
    if leaked is not None:
        for name in ("api_secret", "apiSecret", "secret"):
            ctx.redactor.add(str(leaked.get(name) or ""))
        return failed("the app returns the AccessToken object instead of its .to_jwt(): its JSON carries the API "
                      "secret to every client", facts=facts, code="token-object",
                      evidence=[f"the token field holds an object with {', '.join(sorted(map(str, leaked)))}"],
                      fix="Return `token.to_jwt()` (the signed JWT string), not the AccessToken; then rotate the API "
                          "secret (`livekit-server generate-keys`, or a new key in LiveKit Cloud): it has been sent "
                          "to clients.")
    token = find_field(data, TOKEN_FIELDS)
    if not token:
        return failed(f"the answer has no token (looked for {', '.join(TOKEN_FIELDS)})", code="no-token",
                      evidence=[f"fields: {sorted(data) if isinstance(data, dict) else type(data).__name__}"],
                      facts=facts, fix="Return the participant token under one of those names.")
    ctx.redactor.add(token)
    s = livekit_settings(ctx)
    app_url = find_field(data, URL_FIELDS)
    facts |= {"url": app_url, "room": find_field(data, ROOM_FIELDS)}
    info = inspect_token(token, api_key=s.api_key, api_secret=s.api_secret)
    facts["token"] = {"iss": shorten(str(info.claims.get("iss", ""))), "sub": info.claims.get("sub"),
                      "grants": info.video, "signature": info.signature}
    url = app_url or s.url
    try:
        server = parse_url(url or "")
    except UrlError as exc:
        return failed(f"the app's token cannot be checked: {exc}", facts=facts, code="unusable-url",
                      fix="Return the URL clients should use (ws[s]://host[:port]) with the token, or set LIVEKIT_URL.")
    try:
        async with await client_session(ctx) as session:
            v_status, v_body, _ = await validate(session, server.http_base, token)
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
        v_status, v_body = 0, type(exc).__name__
    facts["validate_status"] = v_status
    found = _token_findings(info, facts, app_url, s.url, url, v_status, v_body,
                            s.sources.get("api_secret", "LIVEKIT_API_SECRET"))
    found += grant_findings(info.video)
    if not found:
        found += await _identity_findings(ctx, info.claims.get("sub"), info.video.get("room"))
    return judged(found, f"POST {endpoint} -> {status}: token for {info.claims.get('sub')!r} in room "
                         f"{info.video.get('room')!r} accepted by {url}", facts=facts)


def grant_findings(video: dict[str, Any]) -> list[Finding]:
    """What the token forbids that a voice session needs (absent grants default to allowed)."""
    found = []
    sources = video.get("canPublishSources")
    if video.get("canPublish") is False or (isinstance(sources, list) and sources and
                                            not any(str(x).lower() == "microphone" for x in sources)):
        found.append(finding("cannot-publish", Severity.FAIL, "the app's token forbids publishing the microphone "
                             f"(canPublish {video.get('canPublish')!r}, canPublishSources {sources!r}): the caller is "
                             "never heard", fix="Grant publishing: VideoGrants(room_join=True, room=..., "
                                                "can_publish=True) (and 'microphone' in can_publish_sources if set)."))
    if video.get("canSubscribe") is False:
        found.append(finding("cannot-subscribe", Severity.FAIL, "the app's token forbids subscribing (canSubscribe "
                             "false): the caller never hears the room or its agent",
                             fix="Grant subscribing: VideoGrants(..., can_subscribe=True)."))
    if video.get("canPublishData") is False:
        found.append(finding("cannot-publish-data", Severity.WARN, "the app's token forbids data messages "
                             "(canPublishData false): agents' text streams, transcriptions and RPC need them",
                             fix="Grant data: VideoGrants(..., can_publish_data=True)."))
    return found


async def _identity_findings(ctx: Context, identity: Any, room: Any) -> list[Finding]:
    """A second caller asked for a session: the same identity for both means each join evicts the other."""
    other = await another_callers_identity(ctx, room if isinstance(room, str) else None)
    if other is None or other != identity:
        return []
    return [finding("shared-identity", Severity.FAIL, f"two different callers both got identity {identity!r}: each "
                    "join disconnects the participant already in the room with that identity (DUPLICATE_IDENTITY)",
                    evidence=[f"checked: a second POST with another user in the payload got identity {other!r}"],
                    fix="Mint each caller's token with that caller's own identity: "
                        "AccessToken(...).with_identity(<the user's ID>), unique per participant.")]


def _http_error(ctx: Context, endpoint: str, status: int, text: str, facts: dict[str, Any]) -> Result:
    """An error answer: the exception is in the app; the SDK and code findings of this run are its likely cause."""
    problems = related_problems(ctx)
    answered = f"the app answered: {ctx.redactor.redact(' '.join(text.split()))[:200]}"  # redact, then cut
    if problems:
        worst = problems[0].severity
        related = finding_lines(problems)
        return failed(f"POST {endpoint} -> HTTP {status}; likely cause, found by this run: {related[0]}",
                      code="http-error", evidence=[answered, *related[:5]], facts=facts,
                      caused_by=tuple(f.code for f in problems if f.severity is worst),
                      fix="Fix the findings listed (see their checks), restart the app and run again.")
    return failed(f"POST {endpoint} -> HTTP {status}", evidence=[answered], facts=facts, code="http-error",
                  fix="Read the app's log for the exception; run the doctor with --project pointing at the app "
                      "so the SDK and code checks can point at the line.")


def _token_findings(info: Any, facts: dict[str, Any], app_url: str | None, own_url: str | None, url: str,
                    v_status: int, v_body: str, secret_source: str) -> list[Finding]:
    """What is wrong with the app's token: the server's own verdict first, then what the doctor sees in it."""
    found = []
    if not v_status:
        found.append(finding("server-unreachable", Severity.FAIL, f"the server at {url} is not reachable ({v_body})",
                             fix="See LK401-LK404 for the layer that fails."))
    elif v_status != 200:
        why = classify(v_status, v_body)
        fix = APP_REFUSAL_FIXES.get(why.reason, why.fix).format(secret_source=secret_source)
        found.append(finding(why.reason.value, Severity.FAIL, f"the app's token: the server at {url} rejects it "
                             f"(HTTP {v_status}): {why.cause}", fix=fix, evidence=[quoted(v_body)]))
    granted = info.video.get("room")
    if facts["room"] and granted and facts["room"] != granted:
        found.append(finding("room-mismatch", Severity.FAIL, f"the app's token grants room {granted!r} but the app "
                             f"returned room {facts['room']!r}: the client joins another room than the one the app "
                             "prepared (and its agent)",
                             fix="Mint the token for the room the app created and returns: "
                                 "VideoGrants(room_join=True, room=<that room's name>)."))
    if app_url and own_url and not same_server(app_url, own_url):
        found.append(finding("url-mismatch", Severity.FAIL, f"the app hands out {app_url} but this setup's "
                             f"LIVEKIT_URL is {own_url}",
                             fix="Return the URL clients should use: the server's LIVEKIT_URL (wss:// in production)."))
    if info.problems and not found:
        found.append(finding("token-problem", Severity.FAIL, "the app's token: " + "; ".join(info.problems),
                             fix="Mint the token in the app with the key and secret the server has (see LK205) and "
                                 "return the server's URL."))
    return found


@check("LK503", "App token joins the room", area=Area.SESSION, needs=("LK502",), timeout=20, codes=(
    code("join-failed", "joining with the app's own token fails although the server accepts it",
         explained_by=("LK501.media-blocked", "LK501.proxy-variable", "LK501.server-gone", "LK501.starved")),
))
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
        return failed(f"joining {url} with the app's token failed: {type(exc).__name__}: {exc}", code="join-failed",
                      fix="See LK501 for media and LK405 for signalling with the doctor's own token.")
    finally:
        try:
            await asyncio.wait_for(room.disconnect(), 3)
        except Exception:  # never connected
            pass
    return passed(f"joined room {joined!r} at {url} with the app's token and left")


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
