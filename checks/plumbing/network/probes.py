"""Network probes shared by the checks: DNS, TCP connect and TLS handshake, each done once per run.

Each is memoised on the Context, so LK401-LK406, the server-API checks and the session checks
all see the same answer and a slow network is paid for once.
"""

from __future__ import annotations

import errno
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from livekit_doctor.checks.plumbing.config.target import Target, is_ip_address, net_timeout, ssl_context
from livekit_doctor.plugin import Context


def elapsed_ms(start: float) -> float:
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
        if is_ip_address(t.host):
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
        return Dns(error=exc.strerror or str(exc), ms=elapsed_ms(start))
    return Dns(addresses=list(dict.fromkeys(info[4][0] for info in infos)), ms=elapsed_ms(start))


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
                result.ms[address] = elapsed_ms(start)
                result.open.append(address)
                writer.close()
            except asyncio.TimeoutError:
                result.failures[address] = "timeout"
            except OSError as exc:
                result.failures[address] = ("refused" if exc.errno == errno.ECONNREFUSED else
                                            "unreachable" if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH)
                                            else "timeout" if exc.errno == errno.ETIMEDOUT else "unreachable")

        with ctx.measuring():  # connect times are reported
            await asyncio.gather(*(one(a) for a in d.addresses))
        return result

    return await ctx.amemo("net.connect", probe_all)


@dataclass
class Tls:
    ok: bool = False
    kind: str = ""  # why the handshake failed, as LK403's finding code names it
    cause: str = ""
    fix: str = ""
    version: str = ""
    days_left: float | None = None
    subject: str = ""
    issuer: str = ""
    ms: float = 0.0


TLS_CAUSES = {  # OpenSSL verify code -> (finding code, cause, fix)
    18: ("self-signed", "the certificate is self-signed",
         "Use a certificate from a public CA (Let's Encrypt), or give clients and the doctor your CA (--ca-file); "
         "browsers will refuse it."),
    19: ("untrusted-root", "the chain ends in a self-signed root this machine does not trust",
         "Install the root CA, or pass --ca-file."),
    20: ("untrusted-issuer", "the certificate's issuer is not trusted here (unknown or private CA, or a missing "
         "intermediate)", "Serve the full chain (leaf + intermediates), or pass the private CA with --ca-file."),
    21: ("missing-intermediate", "the server sends only the leaf certificate: the intermediate is missing",
         "Configure the proxy with the full chain (fullchain.pem)."),
    10: ("certificate-expired", "the certificate has expired",
         "Renew the certificate (certbot renew) and reload the proxy."),
    9: ("certificate-not-yet-valid", "the certificate is not valid yet",
        "Check the certificate's notBefore and this machine's clock."),
    62: ("wrong-host", "the certificate does not match the host name",
         "Use a certificate whose SAN includes the host in LIVEKIT_URL."),
}
TLS_KINDS = ("verify-failed", "no-handshake", "handshake-failed", *(kind for kind, _, _ in TLS_CAUSES.values()))


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
            kind, cause, fix = TLS_CAUSES.get(exc.verify_code, (
                "verify-failed", f"certificate verification failed: {exc.verify_message}",
                "Fix the certificate chain the server presents."))
            return Tls(kind=kind, cause=cause, fix=fix, ms=elapsed_ms(start))
        except asyncio.TimeoutError:
            return Tls(kind="no-handshake", cause=f"no TLS handshake within {net_timeout(ctx):g} s (is this port TLS at all?)",
                       fix="wss:// needs a TLS terminator (nginx, Caddy, a load balancer) in front of port 7880.",
                       ms=elapsed_ms(start))
        except (ssl.SSLError, OSError) as exc:
            return Tls(kind="handshake-failed", cause=f"TLS handshake failed: {exc}",
                       fix="The port may speak plain HTTP: use ws:// for it, or put TLS in front.", ms=elapsed_ms(start))
        sslobj = writer.get_extra_info("ssl_object")
        cert = sslobj.getpeercert() or {}
        writer.close()
        days = (ssl.cert_time_to_seconds(cert["notAfter"]) - time.time()) / 86400 if "notAfter" in cert else None

        def name(part: Any) -> str:
            return ", ".join(f"{k}={v}" for rdn in part or () for k, v in rdn)

        return Tls(ok=True, version=sslobj.version() or "", days_left=days, subject=name(cert.get("subject")),
                   issuer=name(cert.get("issuer")), ms=elapsed_ms(start))

    return await ctx.amemo("net.tls", handshake)


async def speaks_tls(host: str, port: int, timeout: float) -> bool:
    """Whether a TLS handshake completes on the port (certificate not judged: only "is this TLS?")."""
    import asyncio
    import ssl

    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port, ssl=context), timeout)
    except (OSError, asyncio.TimeoutError, ssl.SSLError):
        return False
    writer.close()
    return True
