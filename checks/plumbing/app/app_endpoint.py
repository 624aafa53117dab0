"""The app's own session endpoint (`--app-endpoint`): called once per run, its answer shared.

LK502/LK503 judge the token it returns; LK605 waits in the room it names for the agent it
asked for. The request carries the agent to ask for (`agent_id`, as the seeds' endpoint takes it):
`--agent`, else the name the project's worker registers, else a placeholder.
"""

from __future__ import annotations

import json
import time
from typing import Any

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.config.target import net_timeout
from livekit_doctor.plugin import Context

PLACEHOLDER_AGENT = "doctor"  # the agent_id asked for when neither --agent nor the code names one
DEFAULT_PAYLOAD = {"user_id": "livekit-doctor", "agent_id": PLACEHOLDER_AGENT, "session_duration_hours": 1}
TOKEN_FIELDS = ("token", "access_token", "accessToken", "participant_token", "participantToken", "jwt")
URL_FIELDS = ("livekit_url", "url", "ws_url", "wsUrl", "server_url", "serverUrl", "livekitUrl")
ROOM_FIELDS = ("room_name", "room", "roomName")


def find_field(data: Any, names: tuple[str, ...]) -> str | None:
    """The first string value under one of `names`, searched breadth-first through nested objects."""
    queue = [data]
    while queue:
        node = queue.pop(0)
        if isinstance(node, dict):
            for name in names:
                if isinstance(node.get(name), str) and node[name]:
                    return node[name]
            queue.extend(v for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            queue.extend(node)
    return None


async def payload(ctx: Context) -> dict[str, Any]:
    """--app-payload as given, else the default body asking for the agent this run tests."""
    raw = wing_options(ctx).app_payload
    if raw:
        return json.loads(raw)
    from livekit_doctor.checks.plumbing.agents.agent_code import agent_code, agent_to_test

    name = agent_to_test(ctx, await agent_code(ctx))
    return DEFAULT_PAYLOAD | ({"agent_id": name} if name else {})


async def call_endpoint(ctx: Context) -> dict[str, Any]:
    """POST the payload once per run; LK502, LK503 and LK605 share the answer (and the body sent)."""
    import asyncio

    import aiohttp

    async def post() -> dict[str, Any]:
        url = wing_options(ctx).app_endpoint
        body = await payload(ctx)
        try:
            async with await client_session(ctx, total=net_timeout(ctx) * 2) as session:
                async with session.post(url, json=body) as resp:
                    text = (await resp.read()).decode(resp.get_encoding(), "replace")  # any bytes: a bug's body
                    return {"status": resp.status, "text": text, "content_type": resp.content_type, "sent": body,
                            "answered_at": time.monotonic()}
        except asyncio.TimeoutError:
            return {"error": f"no answer within {net_timeout(ctx) * 2:g} s", "timed_out": True, "sent": body}
        except (aiohttp.ClientError, OSError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "sent": body}

    return await ctx.amemo("app.endpoint", post)


USER_FIELDS = ("user_id", "userId", "identity", "participant_identity", "participantIdentity", "username", "user")


async def another_callers_identity(ctx: Context, first_room: str | None) -> str | None:
    """The identity the endpoint gives a second, different caller (the payload's user field changed), so that
    one identity shared by every user can be told; None when the payload names no user or no token comes.
    The room that call makes is deleted at once (with an agent the app may have dispatched to it)."""
    import asyncio

    import aiohttp
    import jwt

    body = dict(await payload(ctx))
    field = next((name for name in USER_FIELDS if isinstance(body.get(name), str)), None)
    if field is None:
        return None
    body[field] = f"{body[field]}-second-caller"
    try:
        async with await client_session(ctx, total=net_timeout(ctx) * 2) as session:
            async with session.post(wing_options(ctx).app_endpoint, json=body) as resp:
                data = json.loads(await resp.text()) if resp.status < 300 else None
    except (aiohttp.ClientError, OSError, asyncio.TimeoutError, ValueError):
        return None
    token = find_field(data, TOKEN_FIELDS) if data is not None else None
    if not token:
        return None
    ctx.redactor.add(token)
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    room = (claims.get("video") or {}).get("room") if isinstance(claims.get("video"), dict) else None
    if room and room != first_room:
        await asyncio.shield(_delete_room(ctx, room))
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else None


async def _delete_room(ctx: Context, room: str) -> None:
    """Best effort: the second caller's room goes. An agent the app dispatched to it may join after the
    deletion and bring the room back (a join creates it): then it is deleted again, for up to 2 s."""
    import asyncio

    from livekit_doctor.checks.plumbing.server.server_api import twirp
    from livekit_doctor.checks.plumbing.config.settings import livekit_settings
    from livekit_doctor.checks.plumbing.config.target import target
    from livekit_doctor.checks.plumbing.server.tokens import admin_grants, mint

    s, t = livekit_settings(ctx), target(ctx)
    if t is None or not (s.api_key and s.api_secret):
        return
    token = mint(s.api_key, s.api_secret, identity="livekit-doctor", video=admin_grants(room))
    try:
        async with await client_session(ctx) as session:
            _, listed = await twirp(session, t.http_base, token, "ListDispatch", {"room": room},
                                    service="AgentDispatchService")
            await twirp(session, t.http_base, token, "DeleteRoom", {"room": room})
            if '"agent_name"' not in listed and '"agentName"' not in listed:
                return
            for _ in range(8):
                await asyncio.sleep(0.25)
                _, rooms = await twirp(session, t.http_base, token, "ListRooms", {"names": [room]})
                if room in rooms:
                    await twirp(session, t.http_base, token, "DeleteRoom", {"room": room})
    except Exception:  # cleanup must never turn into the check's failure
        pass
