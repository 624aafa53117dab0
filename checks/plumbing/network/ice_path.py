"""The ICE path a connected rtc participant took, read from the SDK's stats: which candidate pair the
transport selected, over which protocol, directly or through a TURN relay; and whether an advertised
ICE/TCP candidate accepts a connection from here (standard library only).
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from typing import Any

from livekit_doctor.plugin import Context


@dataclass(frozen=True)
class Path:
    """The selected candidate pair: the local side says relay or not, the remote side is the server."""

    local_type: str  # host, srflx, prflx or relay
    protocol: str  # udp or tcp between the client and the first hop (the server, or the TURN server)
    remote: str  # the server's media address, "address:port"
    remote_type: str
    relay_protocol: str = ""  # udp, tcp or tls: how the client reaches its TURN server
    relay_url: str = ""
    rtt_ms: float | None = None  # the pair's current round-trip time (ICE consent checks)

    @property
    def kind(self) -> str:
        """udp, tcp, turn/udp, turn/tcp or turn/tls: the names the checks compare."""
        return f"turn/{self.relay_protocol or 'udp'}" if self.local_type == "relay" else self.protocol

    def describe(self) -> str:
        """'UDP to 10.0.0.5:7882 (host candidate)', or '... through TURN/TLS turns:turn.example.com:443'."""
        text = f"{self.protocol.upper()} to {self.remote} ({self.remote_type} candidate)"
        if self.local_type == "relay":
            text += f" through TURN/{(self.relay_protocol or 'udp').upper()}" + (f" {self.relay_url}" if self.relay_url else "")
        return text


def _enum_name(message: Any, field: str) -> str:
    value = getattr(message, field)
    return message.DESCRIPTOR.fields_by_name[field].enum_type.values_by_number[value].name


def selected_path(stats: list[Any]) -> Path | None:
    """The transport's selected pair from a list of rtc stats (publisher or subscriber), or None."""
    entries: dict[str, tuple[str, Any]] = {}  # stats id -> (kind, its data message)
    for item in stats:
        kind = item.WhichOneof("stats")
        entry = getattr(item, kind)
        entries[entry.rtc.id] = (kind, entry)
    for kind, entry in entries.values():
        if kind != "transport":
            continue
        pair = entries.get(entry.transport.selected_candidate_pair_id)
        if not pair:
            continue
        cp = pair[1].candidate_pair
        local, remote = entries.get(cp.local_candidate_id), entries.get(cp.remote_candidate_id)
        if not (local and remote):
            continue
        lc, rc = local[1].candidate, remote[1].candidate
        relay = _enum_name(lc, "relay_protocol").removeprefix("TRANSPORT_").lower() if lc.HasField("relay_protocol") else ""
        rtt = cp.current_round_trip_time if cp.HasField("current_round_trip_time") else None
        return Path(local_type=_enum_name(lc, "candidate_type").lower(), protocol=(rc.protocol or lc.protocol).lower(),
                    remote=f"{rc.address or '?'}:{rc.port}", remote_type=_enum_name(rc, "candidate_type").lower(),
                    relay_protocol=relay, relay_url=lc.url,
                    rtt_ms=round(rtt * 1000, 1) if rtt is not None else None)
    return None


async def reach_tcp(ctx: Context, address: str, port: int, timeout: float) -> str:
    """'open', 'refused' (the host answered: the port is closed), 'timeout' (filtered) or 'unreachable' (no route);
    once per run and address (LK702 and LK705 ask the same)."""
    return await ctx.amemo(f"net.tcp.{address}:{port}", lambda: _reach_tcp(address, port, timeout))


async def _reach_tcp(address: str, port: int, timeout: float) -> str:
    import asyncio

    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(address.strip("[]"), port), timeout)
    except asyncio.TimeoutError:
        return "timeout"
    except OSError as exc:
        return {errno.ECONNREFUSED: "refused", errno.ETIMEDOUT: "timeout"}.get(exc.errno or 0, "unreachable")
    writer.close()
    return "open"
