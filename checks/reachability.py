"""LK401-LK404: DNS, TCP, TLS and HTTP to the server, layer by layer, each timed.

Each layer needs the one below, so a run stops at the first broken layer. TLS is skipped for
ws:// URLs, so LK404 does not `need` LK403; it reads the shared TLS probe instead.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from livekit_doctor.checks import DOCS_DIR  # noqa: F401  (where explain finds this module's pages)
from livekit_doctor.checks.imports import import_off_loop
from livekit_doctor.checks.target import OPTIONS as TARGET_OPTIONS
from livekit_doctor.checks.target import Target, address_kind, net_timeout, ssl_context, target
from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.result import Result, failed, passed, skipped, warned

CERT_WARN_DAYS = 14


def _ms(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


@dataclass
class Dns:
    addresses: list[str] = field(default_factory=list)
    error: str = ""
    ms: float = 0.0
    lookup: bool = True  # False when the URL holds an IP address: nothing to resolve


async def dns(ctx: Context, t: Target) -> Dns:
    import asyncio

    async def resolve() -> Dns:
        if _is_ip_address(t.host):
            return Dns(addresses=[t.host], lookup=False)
        try:
            return await asyncio.wait_for(asyncio.to_thread(_lookup, t.host, t.port), net_timeout(ctx))
        except asyncio.TimeoutError:
            return Dns(error=f"no answer within {net_timeout(ctx):g} s", ms=net_timeout(ctx) * 1000)

    return await ctx.amemo("net.dns", resolve)


def _lookup(host: str, port: int) -> Dns:
    """Timed in the resolving thread: the figure is the resolver's, not the event loop's backlog."""
    start = time.perf_counter()
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        return Dns(error=exc.strerror or str(exc), ms=_ms(start))
    return Dns(addresses=list(dict.fromkeys(info[4][0] for info in infos)), ms=_ms(start))


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _need_target(ctx: Context) -> Target | Result:
    t = target(ctx)
    return t if t is not None else skipped("no usable server URL (see LK201/LK202)")


@check("LK401", "DNS", area="reachability", timeout=15)
async def dns_check(ctx: Context) -> Result:
    """Every address the server's host name resolves to, IPv4 and IPv6, and how long it took."""
    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    d = await dns(ctx, t)
    facts: dict[str, Any] = {"host": t.host, "addresses": d.addresses, "dns_ms": d.ms}
    if d.error:
        return failed(f"{t.host} does not resolve: {d.error} ({d.ms:.0f} ms)", facts=facts,
                      fix="Check the host name in LIVEKIT_URL for typos and that its DNS record exists "
                          "(`getent hosts HOST`); inside containers check /etc/resolv.conf.")
    kinds = ", ".join(f"{a} ({address_kind(a)})" for a in d.addresses)
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


@dataclass
class Connect:
    open: list[str] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # address -> cause key
    ms: dict[str, float] = field(default_factory=dict)


async def connect(ctx: Context, t: Target) -> Connect:
    import asyncio

    async def probe_all() -> Connect:
        result = Connect()
        d = await dns(ctx, t)

        async def one(address: str) -> None:
            start = time.perf_counter()
            try:
                _, writer = await asyncio.wait_for(asyncio.open_connection(address, t.port), net_timeout(ctx))
                result.ms[address] = _ms(start)
                result.open.append(address)
                writer.close()
            except asyncio.TimeoutError:
                result.failures[address] = "timeout"
            except OSError as exc:
                result.failures[address] = ("refused" if exc.errno == errno.ECONNREFUSED else
                                            "unreachable" if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)
                                            else "timeout" if exc.errno == errno.ETIMEDOUT else "unreachable")

        await asyncio.gather(*(one(a) for a in d.addresses))
        return result

    return await ctx.amemo("net.connect", probe_all)


@check("LK402", "TCP connect", area="reachability", needs=("LK401",), timeout=15)
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
        return failed("; ".join(described), facts=facts, fix=CONNECT_CAUSES[cause][1].format(port=t.port))
    if c.failures:
        return warned(f"port {t.port} open on {', '.join(c.open)}, but " + "; ".join(described), facts=facts,
                      fix="Clients that pick the failing address will stall before falling back; fix or remove it.")
    return passed(f"port {t.port} open on {', '.join(c.open)} ({facts['connect_ms']:.1f} ms)", facts=facts)


@dataclass
class Tls:
    ok: bool = False
    cause: str = ""
    fix: str = ""
    version: str = ""
    days_left: float | None = None
    subject: str = ""
    issuer: str = ""
    ms: float = 0.0


TLS_CAUSES = {
    18: ("the certificate is self-signed", "Use a certificate from a public CA (Let's Encrypt), or give clients and "
                                           "the doctor your CA (--ca-file); browsers will refuse it."),
    19: ("the chain ends in a self-signed root this machine does not trust", "Install the root CA, or pass --ca-file."),
    20: ("the certificate's issuer is not trusted here (unknown or private CA, or a missing intermediate)",
         "Serve the full chain (leaf + intermediates), or pass the private CA with --ca-file."),
    21: ("the server sends only the leaf certificate: the intermediate is missing",
         "Configure the proxy with the full chain (fullchain.pem)."),
    10: ("the certificate has expired", "Renew the certificate (certbot renew) and reload the proxy."),
    9: ("the certificate is not valid yet", "Check the certificate's notBefore and this machine's clock."),
    62: ("the certificate does not match the host name", "Use a certificate whose SAN includes the host in LIVEKIT_URL."),
}


async def tls(ctx: Context, t: Target) -> Tls:
    import asyncio
    import ssl

    async def handshake() -> Tls:
        c = await connect(ctx, t)
        address = c.open[0]
        start = time.perf_counter()
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(address, t.port, ssl=ssl_context(ctx), server_hostname=t.host),
                net_timeout(ctx))
        except ssl.SSLCertVerificationError as exc:
            cause, fix = TLS_CAUSES.get(exc.verify_code, (f"certificate verification failed: {exc.verify_message}",
                                                          "Fix the certificate chain the server presents."))
            return Tls(cause=cause, fix=fix, ms=_ms(start))
        except asyncio.TimeoutError:
            return Tls(cause=f"no TLS handshake within {net_timeout(ctx):g} s (is this port TLS at all?)",
                       fix="wss:// needs a TLS terminator (nginx, Caddy, a load balancer) in front of port 7880.",
                       ms=_ms(start))
        except (ssl.SSLError, OSError) as exc:
            return Tls(cause=f"TLS handshake failed: {exc}",
                       fix="The port may speak plain HTTP: use ws:// for it, or put TLS in front.", ms=_ms(start))
        sslobj = writer.get_extra_info("ssl_object")
        cert = sslobj.getpeercert() or {}
        writer.close()
        days = (ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) / 86400 if "notAfter" in cert else None

        def name(part: Any) -> str:
            return ", ".join(f"{k}={v}" for rdn in part or () for k, v in rdn)

        return Tls(ok=True, version=sslobj.version() or "", days_left=days, subject=name(cert.get("subject")),
                   issuer=name(cert.get("issuer")), ms=_ms(start))

    return await ctx.amemo("net.tls", handshake)


@check("LK403", "TLS certificate", area="reachability", needs=("LK402",), timeout=15)
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
        return failed(f"{t.host}:{t.port}: {r.cause}", fix=r.fix, facts=facts)
    summary = f"{r.version}, certificate for {r.subject} from {r.issuer}"
    if r.days_left is not None and r.days_left < CERT_WARN_DAYS:
        return warned(f"{summary} expires in {r.days_left:.0f} days", facts=facts,
                      fix="Renew the certificate now (certbot renew) and check that renewal is automated.")
    return passed(f"{summary}, valid {r.days_left:.0f} more days ({r.ms:.1f} ms)", facts=facts)


@check("LK404", "HTTP: a LiveKit server answers", area="reachability", needs=("LK402",), timeout=15)
async def http_check(ctx: Context) -> Result:
    """GET / must answer 200 "OK"; 406 means not ready; anything else is not LiveKit."""
    import asyncio

    await import_off_loop("aiohttp")
    import aiohttp

    t = _need_target(ctx)
    if isinstance(t, Result):
        return t
    if t.tls and not (await tls(ctx, t)).ok:
        return skipped("skipped: the TLS handshake failed (LK403)")
    timeout = net_timeout(ctx)
    start = time.perf_counter()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(f"{t.http_base}/", ssl=ssl_context(ctx) if t.tls else None,
                                   allow_redirects=False) as resp:
                first_byte = _ms(start)
                body = (await resp.content.read(200)).decode("utf-8", "replace")
                status, server = resp.status, resp.headers.get("Server", "")
            # LiveKit refuses /rtc/validate without a token (401); a web server or a proxy that
            # forwards only / answers 404 there
            async with session.get(f"{t.http_base}/rtc/validate", ssl=ssl_context(ctx) if t.tls else None,
                                   allow_redirects=False) as resp:
                validate_status = resp.status
    except asyncio.TimeoutError:
        return failed(f"no HTTP answer within {timeout:g} s: the port accepts connections but nothing answers",
                      fix="A stopped (Ctrl-Z/SIGSTOP) or hung server, or a non-HTTP service on this port: check LK004 "
                          "for a stopped process, then the server's log; `kill -CONT <pid>` or restart it.",
                      facts={"timeout_s": timeout})
    except aiohttp.ClientError as exc:
        return failed(f"HTTP request failed: {type(exc).__name__}: {exc}",
                      fix="Something on this port does not speak HTTP; check the port in LIVEKIT_URL.")
    facts = {"status": status, "server_header": server, "first_byte_ms": first_byte, "validate_status": validate_status}
    shown = " ".join(body.split())[:80]
    if status == 200 and body.strip() == "OK" and validate_status == 401:
        return passed(f"GET / -> 200 OK, /rtc/validate asks for a token; first byte in {first_byte:.1f} ms", facts=facts)
    if status == 200 and body.strip() == "OK":
        return failed(f"GET / -> 200 OK, but /rtc/validate answers HTTP {validate_status} instead of 401: this is not "
                      f"a LiveKit server, or a proxy forwards only some paths to it", facts=facts,
                      fix="Make the proxy forward every path (/rtc, /rtc/validate, /twirp) to the LiveKit server.")
    if status == 406:
        return failed("GET / -> 406 Not Ready: the LiveKit node is up but not ready (stale node stats, or Redis "
                      "unreachable in a multi-node setup)", facts=facts,
                      fix="Read the server's log; with Redis check that every node reaches it.")
    what = f"HTTP {status}" + (f", Server: {server}" if server else "") + (f", body: {shown!r}" if shown else "")
    return failed(f"something other than a LiveKit server answers at {t.http_base}: {what}", facts=facts,
                  fix="Point LIVEKIT_URL at the LiveKit server itself, or make the proxy forward / and /rtc "
                      "(with WebSocket upgrade) to its port 7880.")


CHECKS = [dns_check, tcp_check, tls_check, http_check]
OPTIONS = TARGET_OPTIONS
