"""A TURN allocation made the way a relay-only client makes it (aioice's TURN client), step by step,
so a failure has a name: the TURN server does not answer, its certificate is not trusted, it refuses
the credentials the LiveKit server issued, or it allocates a relay but refuses to relay to the
server's media address (the embedded TURN server refuses private and loopback peers by default).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

DEFAULT_PORTS = {"turn": 3478, "turns": 5349}


@dataclass(frozen=True)
class TurnUrl:
    url: str
    secure: bool  # turns: TLS over TCP
    host: str
    port: int
    transport: str  # udp or tcp

    @property
    def label(self) -> str:
        """TURN/UDP, TURN/TCP or TURN/TLS, the names used in summaries."""
        return "TURN/TLS" if self.secure else f"TURN/{self.transport.upper()}"


def parse_turn_url(url: str) -> TurnUrl | None:
    """'turn:10.0.0.5:3478?transport=udp' / 'turns:turn.example.com:443?transport=tcp' (RFC 7065)."""
    scheme, _, rest = url.partition(":")
    if scheme not in DEFAULT_PORTS or not rest:
        return None
    address, _, query = rest.partition("?")
    if address.startswith("["):
        host, _, port = address[1:].partition("]")
        port = port.removeprefix(":")
    else:
        host, _, port = address.rpartition(":") if address.count(":") == 1 else (address, "", "")
    transport = parse_qs(query).get("transport", ["tcp" if scheme == "turns" else "udp"])[0].lower()
    try:
        return TurnUrl(url, scheme == "turns", host, int(port) if port else DEFAULT_PORTS[scheme], transport)
    except ValueError:
        return None


@dataclass
class Allocation:
    ok: bool = False
    step: str = ""  # the step that failed: reach, credentials, permission
    cause: str = ""
    answer_ms: float | None = None  # the first answer (a 401 asking for credentials)
    allocation_ms: float | None = None  # the authenticated Allocate
    relayed: str = ""  # the relay address the TURN server allocated


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


async def allocate(turn: TurnUrl, username: str, credential: str, peer: tuple[str, int] | None, timeout: float,
                   ssl_context: Any) -> Allocation:
    """Answer, Allocate with the server's credentials, then a channel to `peer` (the server's media address)."""
    import asyncio
    import socket
    import ssl

    from aioice import stun
    from aioice.turn import create_turn_endpoint

    result = Allocation()
    server = (turn.host, turn.port)
    options = {"transport": turn.transport, "ssl": ssl_context if turn.secure else None}

    async def endpoint(user: str | None, password: str | None) -> Any:
        transport, _ = await asyncio.wait_for(
            create_turn_endpoint(asyncio.DatagramProtocol, server, user, password, lifetime=60, **options), timeout)
        return transport

    start = time.perf_counter()
    try:  # unauthenticated: a TURN server answers 401 with its realm; no answer at all means unreachable
        (await endpoint(None, None)).close()
    except stun.TransactionFailed:
        result.answer_ms = _ms(start)
    except asyncio.TimeoutError:
        result.step, result.cause = "reach", f"{turn.label} {turn.host}:{turn.port} does not answer within {timeout:g} s"
        return result
    except ssl.SSLCertVerificationError as exc:
        result.step, result.cause = "reach", f"{turn.label} {turn.host}:{turn.port}: certificate not trusted " \
                                             f"({exc.verify_message})"
        return result
    except socket.gaierror:
        result.step, result.cause = "reach", f"{turn.label}: {turn.host} does not resolve"
        return result
    except (OSError, stun.TransactionError, ConnectionError) as exc:
        result.step, result.cause = "reach", f"{turn.label} {turn.host}:{turn.port}: {type(exc).__name__}: {exc}"
        return result
    start = time.perf_counter()
    try:
        transport = await endpoint(username, credential)
    except (asyncio.TimeoutError, stun.TransactionError, OSError, ConnectionError) as exc:
        why = f"no answer to the authenticated Allocate within {timeout:g} s" if isinstance(exc, asyncio.TimeoutError) \
            else str(exc)
        result.step, result.cause = "credentials", f"{turn.label} {turn.host}:{turn.port} answered but refused the " \
                                                   f"credentials the server issued ({why})"
        return result
    result.allocation_ms = _ms(start)
    relayed = transport.get_extra_info("sockname")
    result.relayed = f"{relayed[0]}:{relayed[1]}" if relayed else ""
    try:
        if peer:
            inner = transport._TurnTransport__inner_protocol  # aioice binds channels lazily on first send
            await asyncio.wait_for(inner.channel_bind(0x4000, peer), timeout)
        result.ok = True
    except stun.TransactionFailed as exc:
        code = exc.response.attributes.get("ERROR-CODE", (0, ""))[0]
        result.step, result.cause = "permission", f"{turn.label} allocated relay {result.relayed} but refuses to relay " \
                                                  f"to the server's media address {peer[0]}:{peer[1]} (error {code})"
    except asyncio.TimeoutError:
        result.step, result.cause = "permission", f"{turn.label} allocated relay {result.relayed} but did not answer " \
                                                  f"the permission for {peer[0]}:{peer[1]}"
    finally:
        transport.close()
    return result
