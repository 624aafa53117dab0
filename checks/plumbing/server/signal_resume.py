"""What the server answers a client whose signal WebSocket dropped: a resume of its session
(`/rtc?reconnect=1&sid=<participant sid>&reconnect_reason=1`, the parameters the client SDKs send),
then a full reconnect (the same token, a new join), each over the doctor's own WebSocket, timed to
the first message.

A resume is answered with a ReconnectResponse (the same session); a new JoinResponse means the
reconnect parameters never reached the server; a LeaveRequest (STATE_MISMATCH) means the server
that answered does not hold the session. The server keeps only a session whose peer connection has
connected ("removing participant without connection" the moment a signal-only session's socket
closes), so the session resumed is an rtc SDK participant's (plumbing/media/rtc_path.py): the server
moves it to the doctor's socket and closes the SDK's, as it does for a client's dropped one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from livekit_doctor.checks.plumbing.server.signal_join import PROTOCOL

if TYPE_CHECKING:
    import aiohttp

RR_SIGNAL_DISCONNECTED = 1  # livekit.ReconnectReason: what a client sends after its signal socket dropped


@dataclass
class Answer:
    kind: str  # reconnect, join, leave, refused (HTTP status on the upgrade), timeout, error
    ms: float = 0.0  # from opening the WebSocket to the first message
    detail: str = ""  # the HTTP status and text, the leave reason, or the error
    sid: str = ""  # the participant sid of a JoinResponse
    node: str = ""  # the node that sent a JoinResponse or ReconnectResponse


def signal_url(ws_base: str, token: str, resume_sid: str = "") -> str:
    """The /rtc URL a client opens: a join, or with `resume_sid` the resume of that participant's session."""
    params = {"access_token": token, "protocol": PROTOCOL, "auto_subscribe": 0, "sdk": "python", "version": "doctor"}
    if resume_sid:
        params |= {"reconnect": 1, "sid": resume_sid, "reconnect_reason": RR_SIGNAL_DISCONNECTED}
    return f"{ws_base}/rtc?{urlencode(params)}"


async def first_answer(session: "aiohttp.ClientSession", url: str, timeout: float) -> Answer:
    """Open the WebSocket, read the first signal message, close the socket."""
    import asyncio

    import aiohttp
    from livekit.protocol import models
    from livekit.protocol import rtc as proto

    start = time.perf_counter()
    try:
        async with asyncio.timeout(timeout):
            async with session.ws_connect(url, timeout=aiohttp.ClientWSTimeout(ws_close=1)) as ws:
                msg = await ws.receive()
    except aiohttp.WSServerHandshakeError as exc:
        return Answer("refused", _ms(start), f"HTTP {exc.status} {exc.message or ''}".strip())
    except TimeoutError:
        return Answer("timeout", _ms(start), f"no answer within {timeout:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Answer("error", _ms(start), f"{type(exc).__name__}: {exc}")
    ms = _ms(start)
    if msg.type != aiohttp.WSMsgType.BINARY:
        return Answer("error", ms, f"the server closed the WebSocket without a message ({msg.type.name})")
    response = proto.SignalResponse()
    response.ParseFromString(msg.data)
    kind = response.WhichOneof("message") or "unknown"
    if kind == "join":
        return Answer(kind, ms, sid=response.join.participant.sid, node=response.join.server_info.node_id)
    if kind == "reconnect":
        return Answer(kind, ms, node=response.reconnect.server_info.node_id)
    if kind == "leave":
        return Answer(kind, ms, models.DisconnectReason.Name(response.leave.reason))
    return Answer(kind, ms, f"a {kind} message first")


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)
