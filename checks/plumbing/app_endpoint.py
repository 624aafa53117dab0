"""The app's own session endpoint (`--app-endpoint`): called once per run, its answer shared.

LK502/LK503 judge the token it returns; LK605 waits in the room it names for the agent it
asked for. The request carries the agent to ask for (`agent_id`, as the seeds' endpoint takes it):
`--agent`, else the name the project's worker registers, else a placeholder.
"""

from __future__ import annotations

import json
import time
from typing import Any

from livekit_doctor.checks.plumbing.http_client import client_session
from livekit_doctor.checks.plumbing.target import net_timeout
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
    raw = ctx.option("app_payload")
    if raw:
        return json.loads(raw)
    from livekit_doctor.checks.plumbing.agent_code import agent_code, agent_to_test

    name = agent_to_test(ctx, await agent_code(ctx))
    return DEFAULT_PAYLOAD | ({"agent_id": name} if name else {})


async def call_endpoint(ctx: Context) -> dict[str, Any]:
    """POST the payload once per run; LK502, LK503 and LK605 share the answer (and the body sent)."""
    import asyncio

    import aiohttp

    async def post() -> dict[str, Any]:
        url = ctx.option("app_endpoint")
        body = await payload(ctx)
        try:
            async with await client_session(ctx, total=net_timeout(ctx) * 2) as session:
                async with session.post(url, json=body) as resp:
                    text = (await resp.read()).decode(resp.get_encoding(), "replace")  # any bytes: a bug's body
                    return {"status": resp.status, "text": text, "content_type": resp.content_type, "sent": body,
                            "answered_at": time.monotonic()}
        except (aiohttp.ClientError, OSError, asyncio.TimeoutError) as exc:
            return {"error": f"{type(exc).__name__}: {exc}", "sent": body}

    return await ctx.amemo("app.endpoint", post)
