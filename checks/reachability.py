"""LK401-LK404: DNS, TCP, TLS and HTTP to the server, layer by layer, each timed.

Each layer needs the one below, so a run stops at the first broken layer. TLS is skipped for
ws:// URLs, so LK404 does not `need` LK403; it reads the shared TLS probe instead.
"""

from __future__ import annotations

import time
from typing import Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.network.http_client import client_session
from livekit_doctor.checks.plumbing.config.options import network_options
from livekit_doctor.checks.plumbing.network.probes import TLS_KINDS, connect, dns, elapsed_ms, speaks_tls, tls
from livekit_doctor.checks.plumbing.config.target import Target, host_kind, net_timeout, target
from livekit_doctor.plugin import Context, Result, Severity, check, code, failed, finding, judged, passed, skipped

CERT_WARN_DAYS = 14


def _need_target(ctx: Context) -> Target | Result:
    t = target(ctx)
    return t if t is not None else skipped("no usable server URL (see LK201/LK202)", caused_by=("LK201", "LK202"))


@check("LK401", "DNS", area=Area.REACHABILITY, timeout=15, codes=(
    code("no-such-host", "the server's host name does not resolve", explained_by=("LK202.no-such-host",)),
))
async def dns_check(ctx: Context) -> Result:
    """Every address the server's host name resolves to, IPv4 and IPv6, and how long it took."""
    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    d = await dns(ctx, t)
    facts: dict[str, Any] = {"host": t.host, "addresses": d.addresses, "dns_ms": d.ms}
    if d.error:
        return failed(f"{t.host} does not resolve: {d.error} ({d.ms:.0f} ms)", facts=facts, code="no-such-host",
                      fix="Check the host name in LIVEKIT_URL for typos and that its DNS record exists "
                          "(`getent hosts HOST`); inside containers check /etc/resolv.conf.")
    kinds = ", ".join(f"{a} ({host_kind(a)})" for a in d.addresses)
    if not d.lookup:
        return passed(f"{kinds}: an IP address, no lookup needed", facts=facts)
    return passed(f"{t.host} -> {kinds} in {d.ms:.1f} ms", facts=facts)


CONNECT_CAUSES = {
    "refused": ("connection refused: nothing listens on port {port} at {addr}",
                "Start the server, or point LIVEKIT_URL at the port it listens on (7880 by default; see LK004)."),
    "timeout": ("connection timed out after {timeout:g} s at {addr}:{port}: packets are dropped",
                "A firewall or security group drops traffic to port {port}: open it, or check the address."),
    "unreachable": ("network unreachable for {addr}",
                    "No route to this address from here (often IPv6 without connectivity, or a VPN route)."),
}


@check("LK402", "TCP connect", area=Area.REACHABILITY, needs=("LK401",), timeout=15, codes=(
    code("refused", "nothing listens on the URL's port",
         explained_by=("LK004.no-server-on-port", "LK004.not-signalling-port")),
    code("timeout", "connecting times out: packets to the port are dropped"),
    code("unreachable", "no route to the server's address"),
    code("some-addresses-refused", "one of the host's addresses refuses while another connects (clients fall back "
                                   "at once: hygiene)"),
    code("some-addresses-stall", "one of the host's addresses drops packets while another connects: clients that "
                                 "pick it stall before falling back"),
))
async def tcp_check(ctx: Context) -> Result:
    """Connect to each address on the URL's port: refused, timed out and unreachable differ."""
    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    c = await connect(ctx, t)
    facts: dict[str, Any] = {"port": t.port, "open": c.open, "failures": c.failures}
    if c.ms:
        facts["connect_ms"] = min(c.ms.values())
    described = [CONNECT_CAUSES[cause][0].format(port=t.port, addr=addr, timeout=net_timeout(ctx))
                 for addr, cause in c.failures.items()]
    if not c.open:
        cause = next(iter(c.failures.values()))
        return failed("; ".join(described), facts=facts, fix=CONNECT_CAUSES[cause][1].format(port=t.port), code=cause)
    stalls = [a for a, cause in c.failures.items() if cause != "refused"]
    found = [finding("some-addresses-stall" if stalls else "some-addresses-refused",
                     Severity.WARN if stalls else Severity.NOTE,
                     f"port {t.port} open on {', '.join(c.open)}, but " + "; ".join(described),
                     fix="Clients that pick the failing address stall before falling back; fix or remove it."
                     if stalls else f"Clients fall back to {', '.join(c.open)} at once; to be tidy, make the server "
                                    "listen on every address the name resolves to, or use that address in the URL.")
             ] if c.failures else []
    return judged(found, f"port {t.port} open on {', '.join(c.open)} ({facts['connect_ms']:.1f} ms)", facts=facts)


@check("LK403", "TLS certificate", area=Area.REACHABILITY, needs=("LK402",), timeout=15, codes=(
    *(code(kind, "the TLS handshake or the certificate fails: " + kind.replace("-", " ")) for kind in TLS_KINDS),
    code("expires-soon", f"the certificate expires within {CERT_WARN_DAYS} days (hygiene: it works today)"),
))
async def tls_check(ctx: Context) -> Result:
    """Handshake, chain, host name, expiry and TLS version for wss:// and https:// URLs."""
    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    if not t.tls:
        return skipped(f"{t.scheme}:// has no TLS (fine on loopback and private networks)")
    r = await tls(ctx, t)
    facts: dict[str, Any] = {"tls_ms": r.ms, "version": r.version, "days_left": r.days_left and round(r.days_left, 1),
                             "subject": r.subject, "issuer": r.issuer}
    if not r.ok:
        return failed(f"{t.host}:{t.port}: {r.cause}", fix=r.fix, facts=facts, code=r.kind)
    summary = f"{r.version}, certificate for {r.subject} from {r.issuer}"
    soon = r.days_left is not None and r.days_left < CERT_WARN_DAYS
    found = [finding("expires-soon", Severity.NOTE, f"the certificate expires in {r.days_left:.0f} days",
                     fix="Renew the certificate now (certbot renew) and check that renewal is automated.")] if soon else []
    valid = f", valid {r.days_left:.0f} more days" if r.days_left is not None else ""
    return judged(found, f"{summary}{valid} ({r.ms:.1f} ms)", facts=facts)


@check("LK404", "HTTP: a LiveKit server answers", area=Area.REACHABILITY, needs=("LK402",), timeout=15, codes=(
    code("no-answer", "the port accepts connections but no HTTP answer comes (a stopped or hung server)",
         explained_by=("LK004.not-signalling-port",)),
    code("not-http", "something on the port does not speak HTTP", explained_by=("LK004.not-signalling-port",)),
    code("tls-port", "the port speaks TLS but the URL says ws:// or http://"),
    code("partial-proxy", "GET / answers OK but /rtc/validate does not ask for a token: a proxy forwards only some "
                          "paths"),
    code("not-ready", "the LiveKit node answers 406 Not Ready"),
    code("not-livekit", "something other than a LiveKit server answers",
         explained_by=("LK004.not-signalling-port",)),
    code("path-not-served", "the URL has a path and the server does not answer the SDKs' /rtc under it",
         explained_by=("LK202.path",)),
))
async def http_check(ctx: Context) -> Result:
    """GET / must answer 200 "OK"; 406 means not ready; anything else is not LiveKit."""
    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    if t.tls and not (await tls(ctx, t)).ok:
        return skipped("skipped: the TLS handshake failed (LK403)")
    timeout = net_timeout(ctx)
    import asyncio

    session = await client_session(ctx)
    import aiohttp

    start = time.perf_counter()
    try:
        async with session:
            with ctx.measuring():  # the first byte's time is reported
                async with session.get(f"{t.http_base}/", allow_redirects=False) as resp:
                    first_byte = elapsed_ms(start)
                    body = (await resp.content.read(200)).decode("utf-8", "replace")
                    status, server = resp.status, resp.headers.get("Server", "")
            # LiveKit refuses /rtc/validate without a token (401); a web server or a proxy that
            # forwards only / answers 404 there
            async with session.get(f"{t.http_base}/rtc/validate", allow_redirects=False) as resp:
                validate_status = resp.status
            path_status = None
            if t.path.strip("/"):  # the SDKs append /rtc to the whole URL: ask where they will
                async with session.get(f"{t.http_base}/{t.path.strip('/')}/rtc/validate", allow_redirects=False) as resp:
                    path_status = resp.status
    except asyncio.TimeoutError:
        return failed(f"no HTTP answer within {timeout:g} s: the port accepts connections but nothing answers",
                      code="no-answer",
                      fix="A stopped (Ctrl-Z/SIGSTOP) or hung server, or a non-HTTP service on this port: check LK004 "
                          "for a stopped process, then the server's log; `kill -CONT <pid>` or restart it.",
                      facts={"timeout_s": timeout})
    except aiohttp.ClientError as exc:
        if not t.tls and await speaks_tls(t.host, t.port, timeout):
            return _tls_port(t)
        return failed(f"HTTP request failed: {type(exc).__name__}: {exc}", code="not-http",
                      fix="Something on this port does not speak HTTP; check the port in LIVEKIT_URL.")
    facts = {"status": status, "server_header": server, "first_byte_ms": first_byte, "validate_status": validate_status}
    if status == 400 and "plain http request was sent to https port" in body.lower():  # nginx's own words
        return _tls_port(t, facts)
    shown = " ".join(body.split())[:80]
    if status == 200 and body.strip() == "OK" and validate_status == 401 and path_status not in (None, 401):
        return failed(f"the SDKs join at {t.scheme}://{t.host}:{t.port}/{t.path.strip('/')}/rtc, and the server answers "
                      f"HTTP {path_status} there (401, asking for a token, at /rtc/validate): nothing strips the path "
                      f"{t.path}", facts=facts, code="path-not-served",
                      fix=f"Remove the path from LIVEKIT_URL ({t.scheme}://{t.host}:{t.port}), or serve the server "
                          f"behind a proxy that strips {t.path}.")
    if status == 200 and body.strip() == "OK" and validate_status == 401:
        return passed(f"GET / -> 200 OK, /rtc/validate asks for a token; first byte in {first_byte:.1f} ms", facts=facts)
    if status == 200 and body.strip() == "OK":
        return failed(f"GET / -> 200 OK, but /rtc/validate answers HTTP {validate_status} instead of 401: this is not "
                      f"a LiveKit server, or a proxy forwards only some paths to it", facts=facts, code="partial-proxy",
                      fix="Make the proxy forward every path (/rtc, /rtc/validate, /twirp) to the LiveKit server.")
    if status == 406:
        return failed("GET / -> 406 Not Ready: the LiveKit node is up but not ready (stale node stats, or Redis "
                      "unreachable in a multi-node setup)", facts=facts, code="not-ready",
                      fix="Read the server's log; with Redis check that every node reaches it.")
    what = f"HTTP {status}" + (f", Server: {server}" if server else "") + (f", body: {shown!r}" if shown else "")
    return failed(f"something other than a LiveKit server answers at {t.http_base}: {what}", facts=facts,
                  code="not-livekit", evidence=[what],
                  fix="Point LIVEKIT_URL at the LiveKit server itself, or make the proxy forward / and /rtc "
                      "(with WebSocket upgrade) to its port 7880.")


def _tls_port(t: Target, facts: dict[str, Any] | None = None) -> Result:
    secure = f"{'wss' if t.scheme == 'ws' else 'https'}://{t.host}" + (f":{t.port}" if t.explicit_port else "")
    return failed(f"port {t.port} speaks TLS but the URL says {t.scheme}:// (plain): the request is refused before "
                  "it reaches LiveKit", facts=facts or {}, code="tls-port", fix=f"Use LIVEKIT_URL={secure}.")


CHECKS = [dns_check, tcp_check, tls_check, http_check]
OPTIONS = network_options()
