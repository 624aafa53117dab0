"""LK701-LK705: the network paths a client may need: TURN relay, ICE/TCP, which path it takes, reconnects,
and the addresses the server advertises for media.

Each path is proven with the rtc SDK held to that path (plumbing/media/rtc_path.py), in parallel with the
media round-trip (LK501). A server that offers no TURN or no ICE/TCP is not tested for it (`skip`,
saying so); whether that matters for clients elsewhere is LK406's judgement (a public URL without
TURN warns there), so a healthy local development server is never red here.
"""

from __future__ import annotations

from typing import Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.network.ice_path import reach_tcp
from livekit_doctor.checks.plumbing.media.rtc_path import PRIVATE_CA_UNSEEN, private_ca_unseen
from livekit_doctor.checks.plumbing.server.signal_join import Join, signal_join
from livekit_doctor.checks.plumbing.config.target import host_kind, net_timeout, target
from livekit_doctor.checks.plumbing.network.turn_probe import parse_turn_url
from livekit_doctor.plugin import Context, Result, Status, check, code, failed, import_off_loop, passed, skipped, warned

NO_RTC = "the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]'"
RELAY_FIXES = {  # the step a relay failed at -> what to do
    "reach": "Open the TURN port to the server (turn.udp_port for TURN/UDP; TCP 443 for TURN/TLS, whose "
             "certificate must come from a public CA for turn.domain: LiveKit clients accept no private or "
             "self-signed one).",
    "credentials": "The TURN server refuses the credentials LiveKit issues: an external TURN server "
                   "(rtc.turn_servers) needs the same username/credential or shared secret as its own config.",
    "permission": "The embedded TURN server refuses to relay to private and loopback addresses: set rtc.node_ip "
                  "to the address clients reach, or list the media network in turn.allow_restricted_peer_cidrs.",
    "relay": "Let the relay reach the media address: the TURN server must reach rtc.node_ip on the UDP media "
             "port, and clients the relay range (turn.relay_range_start-end).",
}
MEDIA_CAUSES = ("LK705.advertised-unreachable", "LK705.advertised-untested", "LK406.no-candidates",
                "LK406.unreachable-addresses", "LK501.proxy-variable", "LK501.server-gone", "LK501.starved")
DOCKER_BRIDGE = "172.17."  # Docker's default bridge network: a container's own address, unreachable from elsewhere


async def _join(ctx: Context) -> Join:
    return await signal_join(ctx, target(ctx))


async def _rtc() -> Any:
    """The rtc SDK, imported off the loop; None when it is not installed."""
    try:
        await import_off_loop("livekit.rtc")
        from livekit import rtc
    except ImportError:
        return None
    return rtc


def _local(ctx: Context) -> bool:
    """A loopback or private URL: the clients are local, a missing fallback is not a failure for them."""
    t = target(ctx)
    return t is not None and t.host_kind != "public"


def _bad(ctx: Context, summary: str, **kw: Any) -> Result:
    """A broken fallback path: a failure for a public server, a warning for a local or private one."""
    return (warned if _local(ctx) else failed)(summary, **kw)


def _ports(candidates: list[dict[str, Any]], protocol: str) -> str:
    return "/".join(sorted({str(c["port"]) for c in candidates if c["protocol"] == protocol})) or "?"


@check("LK701", "Relay-only media (TURN)", area=Area.NETWORK, needs=("LK405",), timeout=20, codes=(
    code("relay-failed", "no offered TURN server relays media", explained_by=(*MEDIA_CAUSES, "LK501.media-blocked")),
    code("some-relays-fail", "some of the offered TURN servers relay media, others do not",
         explained_by=MEDIA_CAUSES),
))
async def relay_check(ctx: Context) -> Result:
    """Each TURN server the server offers, alone and relay-only: allocation time, then a real media connection."""
    import asyncio
    import ssl

    j = await _join(ctx)
    offered = [(parse_turn_url(url), user, cred) for urls, user, cred in j.turn_credentials for url in urls]
    offered = [o for o in offered if o[0] is not None]
    if not offered:
        return skipped("no TURN offered: the join response lists no TURN server (turn.enabled / rtc.turn_servers), "
                       "so relay-only media is not tested" + ("" if _local(ctx) else "; see LK406"))
    rtc = await _rtc()
    if rtc is None:
        return skipped(NO_RTC)
    peer = next(((c["address"], c["port"]) for c in j.candidates if c["protocol"] == "udp"), None)
    try:
        await import_off_loop("aioice.turn")
        from livekit_doctor.checks.plumbing.network.turn_probe import allocate
    except ImportError:
        allocate = None  # type: ignore[assignment]  # no allocation timing without aioice; media is still tested
    from livekit.rtc._proto import room_pb2

    from livekit_doctor.checks.plumbing.media.rtc_path import connect_path

    async def one(turn: Any, user: str, cred: str) -> dict[str, Any]:
        # the rtc SDK trusts its built-in public CAs for TURN/TLS, not --ca-file: the probe uses the system's
        trust = ssl.create_default_context()
        options = rtc.RoomOptions(rtc_config=rtc.RtcConfiguration(
            ice_transport_type=rtc.IceTransportType.TRANSPORT_RELAY,
            ice_servers=[room_pb2.IceServer(urls=[turn.url], username=user, password=cred)]))
        probe = allocate(turn, user, cred, peer, min(net_timeout(ctx), 3.0), trust) if allocate else None
        media, alloc = await asyncio.gather(connect_path(ctx, turn.label.replace("/", "-").lower(), options),
                                            probe if probe else asyncio.sleep(0))
        entry: dict[str, Any] = {"url": turn.url, "label": turn.label, "ok": media.ok, **media.facts}
        if alloc:
            entry |= {"answer_ms": alloc.answer_ms, "allocation_ms": alloc.allocation_ms, "relayed": alloc.relayed}
        if media.ok:
            entry["path"] = media.path.describe() if media.path else None
        elif alloc and not alloc.ok:
            entry["cause"], entry["step"] = alloc.cause, alloc.step
        elif alloc:
            entry["step"] = "relay"
            entry["cause"] = (f"{turn.label} allocated relay {alloc.relayed} in {alloc.allocation_ms:.0f} ms, but no "
                              f"media through it ({media.cause}): the relay cannot reach the server's media address "
                              f"{peer[0]}:{peer[1]}" if peer else f"{turn.label}: {media.cause}")
        else:
            entry["cause"] = f"{turn.label} {turn.host}:{turn.port}: {media.cause}"
        return entry

    entries = list(await asyncio.gather(*(one(*o) for o in offered)))
    facts = {"relays": entries}
    good = [e for e in entries if e["ok"]]
    text = "; ".join(
        f"{e['label']} {e['url']}: " + (
            (f"allocated in {e['allocation_ms']:.0f} ms, " if e.get("allocation_ms") is not None else "")
            + f"media connected in {e['connect_ms']:.0f} ms" if e["ok"] else e["cause"]) for e in entries)
    if len(good) == len(entries):
        return passed(text, facts=facts)
    fix = " ".join(dict.fromkeys(RELAY_FIXES[e.get("step", "reach")] for e in entries if not e["ok"]))
    if good:
        return warned(text, facts=facts, fix=fix, code="some-relays-fail")
    if all(private_ca_unseen(ctx, e["cause"]) for e in entries):
        return skipped(PRIVATE_CA_UNSEEN, facts=facts)
    return _bad(ctx, text, facts=facts, fix=fix, code="relay-failed")


@check("LK702", "ICE/TCP media", area=Area.NETWORK, needs=("LK405",), timeout=20, codes=(
    code("tcp-closed", "no media over the server's ICE/TCP port (the fallback for clients whose firewall blocks UDP)",
         explained_by=(*MEDIA_CAUSES, "LK501.media-blocked")),
    code("tcp-not-used", "asked for ICE/TCP only, the media went over another path"),
))
async def tcp_check(ctx: Context) -> Result:
    """Media over the server's ICE/TCP port only: the path of a client behind a UDP-blocking firewall."""
    j = await _join(ctx)
    tcp = [c for c in j.candidates if c["protocol"] == "tcp"]
    if not tcp:
        return skipped("no ICE/TCP offered: the server lists no TCP candidate (rtc.tcp_port), so ICE/TCP is not tested")
    rtc = await _rtc()
    if rtc is None:
        return skipped(NO_RTC)
    import asyncio

    from livekit_doctor.checks.plumbing.media.rtc_path import connect_path

    timeout = min(net_timeout(ctx), 2.0)
    out, *reach = await asyncio.gather(connect_path(ctx, "tcp", rtc.RoomOptions(), force_tcp=True),
                                       *(reach_tcp(ctx, c["address"], c["port"], timeout) for c in tcp))
    facts: dict[str, Any] = {**out.facts, "path": out.path.describe() if out.path else None,
                             "candidates": [f"{c['address']}:{c['port']}" for c in tcp]}
    if out.ok and out.path and out.path.kind == "tcp":
        return passed(f"media over ICE/TCP to {out.path.remote} in {out.facts['tcp_switch_ms']:.0f} ms after the "
                      f"server offered only TCP (connected in {out.facts['connect_ms']:.0f} ms)", facts=facts)
    if out.ok:
        return warned(f"asked for ICE/TCP only, the media went over {out.path.describe() if out.path else 'an unknown path'}",
                      facts=facts, code="tcp-not-used")
    if private_ca_unseen(ctx, out.cause):
        return skipped(PRIVATE_CA_UNSEEN, facts=facts)
    facts["tcp_reach"] = {f"{c['address']}:{c['port']}": r for c, r in zip(tcp, reach)}
    how = {"refused": "refuses connections (the port is closed)", "timeout": "does not answer (a firewall drops it)",
           "unreachable": "is unreachable (no route to that address)", "open": "accepts TCP, yet ICE over it failed"}
    named = "; ".join(f"TCP {a} {how[r]}" for a, r in facts["tcp_reach"].items())
    return _bad(ctx, f"no media over ICE/TCP: {out.cause}; {named}", facts=facts, code="tcp-closed",
                fix=f"Open TCP {_ports(tcp, 'tcp')} (rtc.tcp_port) to the server for clients whose firewall blocks "
                    "UDP, and check that the advertised address is the server's (LK705).")


@check("LK703", "Media path a client takes", area=Area.NETWORK, needs=("LK501",), after=("LK406", "LK701", "LK702"),
       timeout=5, codes=(
           code("udp-blocked-tcp-only", "media works only over the ICE/TCP fallback: the UDP port or range is blocked"),
           code("relay-only", "media works only through TURN: neither UDP nor ICE/TCP reach the server"),
       ))
def path_check(ctx: Context) -> Result:
    """The path ICE chose with every transport allowed (LK501), and the fallbacks measured by LK701/LK702."""
    media = ctx.results["LK501"].facts
    kind, where = media.get("path"), media.get("transport")
    offered = getattr(ctx.results.get("LK406"), "facts", {}) or {}
    fallbacks = []
    tcp = ctx.results.get("LK702")
    if tcp is not None:
        fallbacks.append("ICE/TCP " + (f"works ({tcp.facts.get('tcp_switch_ms', 0):.0f} ms)" if tcp.status is Status.PASS
                                       else "not offered" if tcp.status is Status.SKIP else "fails"))
    relay = ctx.results.get("LK701")
    if relay is not None:
        relays = relay.facts.get("relays", [])
        fallbacks += [f"{r['label']} {'works' if r['ok'] else 'fails'}" for r in relays] or ["TURN not offered"]
    tail = f"; fallbacks: {', '.join(fallbacks)}" if fallbacks else ""
    facts = {"path": kind, "transport": where, "media_connected_ms": media.get("media_connected_ms")}
    if not kind:
        return skipped("the rtc SDK reported no selected ICE pair for LK501's session", facts=facts)
    if kind == "udp":
        return passed(f"UDP direct: {where}, media in {media.get('media_connected_ms', 0):.0f} ms{tail}", facts=facts)
    udp = "/".join(sorted({p.rsplit(':', 1)[1] for p in offered.get("udp", [])})) or "50000-60000"
    if kind == "tcp":
        return warned(f"media only works over the ICE/TCP fallback ({where}): UDP {udp} to the server is blocked "
                      f"from here{tail}", facts=facts, code="udp-blocked-tcp-only",
                      fix=f"Open UDP {udp} (rtc.udp_port or rtc.port_range_start-end) to the server: over TCP, a lost "
                          "packet stalls the audio behind it.")
    return warned(f"media only works through TURN ({where}): neither UDP {udp} nor ICE/TCP reach the server "
                  f"from here{tail}", facts=facts, code="relay-only",
                  fix=f"Open UDP {udp} and TCP {'/'.join(p.rsplit(':', 1)[1] for p in offered.get('tcp', [])) or '7881'} "
                      "to the server: every relayed packet takes an extra hop through the TURN server.")


@check("LK704", "Reconnect and resume", area=Area.NETWORK, needs=("LK405",), timeout=10, codes=(
    code("rejoin-fails", "a full reconnect (a new join with the same token) fails"),
    code("resume-fails", "a dropped signal connection cannot be resumed: clients fall back to a full reconnect"),
))
async def reconnect_check(ctx: Context) -> Result:
    """A session resumed after its signal socket dropped, then a full reconnect, answered as the SDKs expect."""
    rtc = await _rtc()
    if rtc is None:
        return skipped(NO_RTC)
    from livekit_doctor.checks.plumbing.media.rtc_path import resume_session

    out = await resume_session(ctx)
    if not out.ok:
        return skipped(f"not tested: no media connection to start from ({out.cause}; see LK501, LK702 and LK705)",
                       facts=out.facts)
    return reconnect_verdict(out.facts)


RESUME_FAILS = {  # how the server answered a resume -> what that means
    "join": "the server answered with a new session (a JoinResponse): reconnect=1 and sid never reached it (a proxy "
            "rewriting the /rtc query string?)",
    "leave": "the server answered with a leave ({detail}): the node that answered does not hold the session",
    "refused": "the resume request was refused ({detail})",
    "timeout": "the resume got no answer ({detail})",
    "error": "the resume failed ({detail})",
}


def reconnect_verdict(facts: dict[str, Any]) -> Result:
    """The server's answers to the resume and to the full reconnect (plumbing/signal_resume.Answer as dicts)."""
    resume, full = facts["resume"], facts["full_reconnect"]
    if full["kind"] != "join":
        why = {"leave": "a leave ({detail})", "refused": "refused ({detail})"}.get(full["kind"], "{detail}")
        return failed(f"a full reconnect (a new join with the same token) failed: {why.format(**full)}; a client "
                      "whose connection drops cannot rejoin", facts=facts, code="rejoin-fails",
                      fix="Read the server log for the join; a proxy must pass every /rtc WebSocket upgrade.")
    rejoined = f"full reconnect (a new session) in {full['ms']:.0f} ms"
    if resume["kind"] == "reconnect":
        return passed(f"signal dropped and resumed in {resume['ms']:.0f} ms (the same session), {rejoined}",
                      facts=facts)
    why = RESUME_FAILS.get(resume["kind"], "the server answered with a {kind} message first").format(**resume)
    return warned(f"resume failed: {why}; clients fall back to a full reconnect (a new session: every track "
                  f"republished, a break in the call), {rejoined}", facts=facts, code="resume-fails",
                  fix="Route /rtc?reconnect=1 to the node that holds the session, query string intact (sticky "
                      "sessions on the load balancer, WebSocket upgrades on every path); with several nodes, "
                      "configure Redis so that any node can reach every session. The server log says 'could not "
                      "restart participant' or 'could not resume participant'.")


@check("LK705", "Advertised media addresses", area=Area.NETWORK, needs=("LK406",), after=("LK402", "LK501"), timeout=10,
       codes=(
           code("advertised-unreachable", "every address the server advertises for media is unreachable from this "
                                          "client (rtc.node_ip / use_external_ip)"),
           code("advertised-nat-only", "the advertised addresses are unreachable; media worked only because the "
                                       "server reached this client directly (clients behind NAT will fail)"),
           code("advertised-untested", "media failed and the server advertises addresses other than the one reached, "
                                       "which cannot be tested without ICE/TCP"),
       ))
async def addresses_check(ctx: Context) -> Result:
    """The addresses the server offers for media, against the address this client reached it at."""
    import asyncio

    j = await _join(ctx)
    reached = set(getattr(ctx.results.get("LK402"), "facts", {}).get("open") or [])
    addresses = sorted({c["address"] for c in j.candidates})
    tcp = {c["address"]: c["port"] for c in j.candidates if c["protocol"] == "tcp"}
    timeout = min(net_timeout(ctx), 2.0)
    reach = dict(zip(tcp, await asyncio.gather(*(reach_tcp(ctx, a, p, timeout) for a, p in tcp.items()))))
    facts = {"advertised": addresses, "reached": sorted(reached), "tcp_reach": reach}
    media_ok = getattr(ctx.results.get("LK501"), "status", None)
    unreachable = [a for a in addresses if a not in reached and reach.get(a) in ("timeout", "unreachable")]
    untested = [a for a in addresses if a not in reached and a not in reach]

    def label(a: str) -> str:
        kind = "a Docker bridge address" if a.startswith(DOCKER_BRIDGE) else f"{host_kind(a)}"
        return f"{a} ({kind})"

    at = ", ".join(sorted(reached)) or target(ctx).host
    where = f"this client reached the server at {at}"
    fix = ("Set rtc.node_ip to the address clients reach the server at (or rtc.use_external_ip: true behind NAT); a "
           "server in Docker needs host networking (--network host) or node_ip set to the host's address.")
    lk501 = getattr(ctx.results.get("LK501"), "facts", {}) or {}
    if addresses and len(unreachable) == len(addresses) and media_ok is Status.PASS and \
            "prflx" in (lk501.get("transport") or ""):
        return warned(f"the server advertises {', '.join(map(label, addresses))} for media, which this client cannot "
                      f"reach; media worked only because the server reached this client directly (a peer-reflexive "
                      f"candidate): clients behind NAT will not get media; {where}", facts=facts, fix=fix,
                      code="advertised-nat-only")
    if addresses and len(unreachable) == len(addresses):
        return failed(f"the server advertises {', '.join(map(label, addresses))} for media, which this client cannot "
                      f"reach (TCP {', '.join(f'{a}:{tcp[a]} {reach[a]}' for a in unreachable)}); {where}",
                      facts=facts, fix=fix, code="advertised-unreachable")
    if untested and len(untested) == len(addresses) and media_ok is Status.FAIL:
        return warned(f"the server advertises {', '.join(map(label, untested))} for media, not the address this client reached ({at}); "
                      "with no ICE/TCP candidate it cannot be tested, and media failed (LK501)", facts=facts, fix=fix,
                      code="advertised-untested")
    notes = [f"{label(a)} unreachable from here (not used)" for a in unreachable]
    summary = ", ".join(f"{a} ({'the address reached' if a in reached else 'TCP ' + reach[a] if a in reach else host_kind(a)})"
                        for a in addresses) or "no ICE candidates (see LK406)"
    return passed(f"advertised: {summary}" + (f"; {'; '.join(notes)}" if notes else ""), facts=facts)


CHECKS = [relay_check, tcp_check, path_check, reconnect_check, addresses_check]
