"""LK405-LK406: a real WebSocket join on /rtc, and the media transports the server offers.

Both read the one join the wing makes per run (plumbing/server/signal_join.py).
"""

from __future__ import annotations

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.network.probes import tls
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.checks.plumbing.server.signal_join import Join, signal_join
from livekit_doctor.checks.plumbing.config.target import host_kind, target
from livekit_doctor.checks.plumbing.server.server_api import Refusal
from livekit_doctor.checks.plumbing.network.causes import UNREACHABLE
from livekit_doctor.plugin import Context, Result, check, code, failed, passed, skipped, warned


async def _joined(ctx: Context) -> Join | Result:
    t = target(ctx)
    s = livekit_settings(ctx)
    if t is None or not (s.api_key and s.api_secret):
        return skipped("no usable URL, key and secret (see LK201-LK203)")
    if t.tls and not (await tls(ctx, t)).ok:
        return skipped("skipped: the TLS handshake failed (LK403)")
    return await signal_join(ctx, t)


# aiohttp gives a refused WebSocket upgrade without its body: a 401 there is unexplained by itself, and follows
# from whatever refusal LK205 read in the server's words for the same credentials
TOKEN_REFUSED = tuple(f"LK205.{r.value}" for r in Refusal if r not in (Refusal.ROOM_MISSING, Refusal.UNEXPECTED))


@check("LK405", "Signal connection", area=Area.REACHABILITY, needs=("LK404", "LK204"), timeout=20, codes=(
    code("upgrade-refused", "the WebSocket upgrade on /rtc is refused (a proxy without Upgrade headers)"),
    code("websocket-timeout", "the WebSocket on /rtc does not open in time", explained_by=("LK002.cpu-starved",)),
    code("websocket-failed", "the WebSocket connection on /rtc fails", explained_by=UNREACHABLE),
    code("no-join-response", "the WebSocket opens but no JoinResponse comes", explained_by=("LK002.cpu-starved",)),
    *(code(r.value, f"the server refuses the join token: {r.value.replace('-', ' ')}",
           explained_by=(f"LK205.{r.value}",) if r is not Refusal.UNEXPECTED else TOKEN_REFUSED) for r in Refusal
      if r is not Refusal.ROOM_MISSING),
))
async def signal_check(ctx: Context) -> Result:
    """A real WebSocket join on /rtc with a fresh token: server version, protocol, node, ICE servers."""
    j = await _joined(ctx)
    if isinstance(j, Result):
        return j
    facts = {"join_ms": j.join_ms, "server": j.server, "ice_servers": j.ice_servers}
    if not j.ok:
        return failed(j.cause, fix=j.fix, facts=facts, code=j.kind)
    stun = [u for u in j.ice_servers if u.startswith("stun")]
    turn = [u for u in j.ice_servers if u.startswith("turn")]
    ice = f"{len(stun)} STUN, {len(turn)} TURN server{'s' if len(turn) != 1 else ''}"
    where = j.server.get("region") or j.server.get("node_id")
    return passed(f"joined in {j.join_ms:.1f} ms: LiveKit {j.server.get('version')} (protocol "
                  f"{j.server.get('protocol')}, {where}); {ice}", facts=facts)


@check("LK406", "Media transports offered", area=Area.REACHABILITY, needs=("LK405",), timeout=20, codes=(
    code("no-candidates", "the server offers no ICE candidates and no TURN: no media can flow"),
    code("unreachable-addresses", "the server advertises only addresses of a narrower kind than the URL's "
                                  "(private or loopback for a public URL) and no TURN"),
    code("no-turn", "a public server offers no TURN: clients behind strict firewalls fail"),
))
async def transports_check(ctx: Context) -> Result:
    """Which UDP/TCP ports and addresses clients are offered, TURN, and node IPs clients cannot reach."""
    j = await _joined(ctx)
    if isinstance(j, Result):
        return j
    t = target(ctx)
    udp = sorted({(c["address"], c["port"]) for c in j.candidates if c["protocol"] == "udp"})
    tcp = sorted({(c["address"], c["port"]) for c in j.candidates if c["protocol"] == "tcp"})
    turn = [u for u in j.ice_servers if u.startswith("turn")]
    facts = {"udp": [f"{a}:{p}" for a, p in udp], "tcp": [f"{a}:{p}" for a, p in tcp], "turn": turn}
    offered = [f"UDP {', '.join(f'{a}:{p}' for a, p in udp)}" if udp else "",
               f"ICE/TCP {', '.join(f'{a}:{p}' for a, p in tcp)}" if tcp else "",
               f"TURN {', '.join(turn)}" if turn else ""]
    summary = "; ".join(o for o in offered if o)
    if not j.candidates and not turn:
        return failed("the server offered no ICE candidates and no TURN: clients cannot send media", code="no-candidates",
                      fix="Check rtc.udp_port / rtc.port_range_start-end and rtc.tcp_port in the server config.",
                      facts=facts)
    url_kind = t.host_kind if t else "public"
    addresses = {a for a, _ in udp + tcp}
    reachable = {a for a in addresses if _rank(host_kind(a)) >= _rank(url_kind)}
    if url_kind != "loopback" and not reachable and not turn:
        kinds = ", ".join(sorted({host_kind(a) for a in addresses}))
        return failed(f"the server advertises only {kinds} addresses ({', '.join(sorted(addresses))}) while the URL "
                      f"is {url_kind}: clients elsewhere will connect signalling but never media", facts=facts,
                      code="unreachable-addresses",
                      fix="Set rtc.use_external_ip: true (or rtc.node_ip to the public address) and open UDP "
                          f"{'/'.join(str(p) for _, p in udp) or '50000-60000'} and TCP "
                          f"{'/'.join(str(p) for _, p in tcp) or '7881'}; or configure TURN.")
    if not turn and url_kind == "public":
        return warned(f"{summary}; no TURN: clients behind strict firewalls will fail", facts=facts, code="no-turn",
                      fix="Enable the embedded TURN server (turn.enabled with TLS on 443) or configure an external one.")
    return passed(summary, facts=facts)


def _rank(kind: str) -> int:
    return {"loopback": 0, "private": 1, "public": 2}[kind]


CHECKS = [signal_check, transports_check]
