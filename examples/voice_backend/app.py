"""A minimal, correct voice-session backend: the shape the doctor's code scan expects.

POST /api/voice/session creates a room, dispatches the voice agent the body names
(`agent_id`) to it, and returns a join token. LiveKitAPI is created inside the running loop
(the app's startup hook) and closed on shutdown.
"""

from __future__ import annotations

import os
import uuid

from aiohttp import web
from livekit import api


async def open_livekit(app: web.Application) -> None:
    app["lkapi"] = api.LiveKitAPI()  # reads LIVEKIT_URL / LIVEKIT_API_KEY / LIVEKIT_API_SECRET


async def close_livekit(app: web.Application) -> None:
    await app["lkapi"].aclose()


async def create_session(request: web.Request) -> web.Response:
    body = await request.json()
    room_name = f"voice-{uuid.uuid4().hex[:8]}"
    lkapi: api.LiveKitAPI = request.app["lkapi"]
    await lkapi.room.create_room(api.CreateRoomRequest(name=room_name, empty_timeout=300))
    if body.get("agent_id"):
        await lkapi.agent_dispatch.create_dispatch(
            api.CreateAgentDispatchRequest(agent_name=str(body["agent_id"]), room=room_name))
    token = (
        api.AccessToken()
        .with_identity(str(body.get("user_id", "guest")))
        .with_grants(api.VideoGrants(room_join=True, room=room_name))
        .to_jwt()
    )
    return web.json_response({"token": token, "room_name": room_name, "livekit_url": os.environ["LIVEKIT_URL"]})


def make_app() -> web.Application:
    app = web.Application()
    app.on_startup.append(open_livekit)
    app.on_cleanup.append(close_livekit)
    app.router.add_post("/api/voice/session", create_session)
    return app


if __name__ == "__main__":
    web.run_app(make_app(), host="127.0.0.1", port=int(os.environ.get("PORT", "8080")))
