"""The server the network checks talk to, parsed once from the resolved URL, and shared probes."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import click

from livekit_doctor.checks.settings import livekit_settings
from livekit_doctor.context import Context

if TYPE_CHECKING:
    import ssl

DEFAULT_NET_TIMEOUT = 5.0


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme in ("wss", "https")

    @property
    def http_base(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.netloc}"

    @property
    def ws_base(self) -> str:
        return f"{'wss' if self.tls else 'ws'}://{self.netloc}"

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


def target(ctx: Context) -> Target | None:
    """The parsed URL, or None when there is none usable (LK201/LK202 say why)."""
    url = livekit_settings(ctx).url
    if not url:
        return None
    try:
        parts = urlsplit(url.strip())
        scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
        if scheme not in ("ws", "wss") or not parts.hostname:
            return None
        return Target(scheme, parts.hostname, parts.port or (443 if scheme == "wss" else 80))
    except ValueError:
        return None


def net_timeout(ctx: Context) -> float:
    return float(ctx.option("net_timeout", DEFAULT_NET_TIMEOUT))


def ssl_context(ctx: Context) -> "ssl.SSLContext":
    """The system's trust store plus --ca-file, as clients would verify the server."""
    import ssl

    context = ssl.create_default_context()
    ca_file = ctx.option("ca_file")
    if ca_file:
        context.load_verify_locations(cafile=str(ca_file))
    return context


def address_kind(address: str) -> str:
    ip = ipaddress.ip_address(address.split("%")[0])
    if ip.is_loopback:
        return "loopback"
    if ip.is_private or ip.is_link_local:
        return "private"
    return "public"


OPTIONS = [
    click.Option(["--net-timeout"], type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
                 help=f"Timeout of each network step (default {DEFAULT_NET_TIMEOUT:g} s)."),
    click.Option(["--ca-file"], type=click.Path(exists=True, dir_okay=False), metavar="PEM",
                 help="Extra CA certificates to trust for wss:// / https:// (a private CA)."),
]
