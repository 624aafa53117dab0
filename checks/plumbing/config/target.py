"""The server the checks talk to: one URL parser, one port rule, one host classifier, and the
network settings (timeout, trusted CAs) every step applies.

The port rule is the SDKs' own: a URL without a port means the scheme's default (80 for
ws/http, 443 for wss/https), never LiveKit's 7880, so every check tests what the app's
clients will really reach.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping
from urllib.parse import urlsplit

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.plugin import Context

if TYPE_CHECKING:
    import ssl

SCHEMES = ("ws", "wss", "http", "https")
LIVEKIT_PORT = 7880  # the server's default HTTP/WebSocket port
LOOPBACK_NAMES = ("localhost", "localhost.localdomain")


class UrlError(ValueError):
    """A URL no LiveKit client could use; the message says why, `kind` ("scheme", "parse", "host") what."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Target:
    scheme: str  # as written: ws, wss, http or https
    host: str
    port: int  # explicit, else the scheme's default
    explicit_port: bool = True
    path: str = ""
    query: str = ""

    @property
    def tls(self) -> bool:
        return self.scheme in ("wss", "https")

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def http_base(self) -> str:
        """The server API's base URL (what livekit-api posts /twirp/... to)."""
        return f"{'https' if self.tls else 'http'}://{self.netloc}"

    @property
    def ws_base(self) -> str:
        """The signalling base URL (what clients open /rtc on)."""
        return f"{'wss' if self.tls else 'ws'}://{self.netloc}"

    @property
    def host_kind(self) -> str:
        return host_kind(self.host)


def same_server(a: str, b: str) -> bool:
    """Two URLs that reach the same server: the same TLS-ness and port, and hosts that are equal or resolve to a
    common address (localhost and 127.0.0.1 are one server; a URL that does not parse is no server)."""
    import socket

    try:
        x, y = parse_url(a), parse_url(b)
    except UrlError:
        return False
    if (x.tls, x.port) != (y.tls, y.port):
        return False
    if x.host.lower() == y.host.lower():
        return True

    def addresses(host: str) -> set[str]:
        try:
            return {info[4][0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
        except (socket.gaierror, UnicodeError):
            return set()

    return bool(addresses(x.host) & addresses(y.host))


def parse_url(url: str) -> Target:
    """The target of a LiveKit URL (surrounding whitespace ignored); UrlError says what is wrong."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlError(f"the URL {url.strip()!r} does not parse: {exc}", "parse") from None
    if parts.scheme not in SCHEMES:
        raise UrlError(f"scheme {parts.scheme or '(none)'!r} is not one of ws, wss, http, https", "scheme")
    if not parts.hostname:
        raise UrlError(f"the URL {url.strip()!r} has no host", "host")
    default = 443 if parts.scheme in ("wss", "https") else 80
    return Target(parts.scheme, parts.hostname, port or default, explicit_port=port is not None,
                  path=parts.path, query=parts.query or parts.fragment)


def target(ctx: Context) -> Target | None:
    """The resolved URL's target, or None when there is none usable (LK201/LK202 say why)."""
    url = livekit_settings(ctx).url
    if not url:
        return None
    try:
        return parse_url(url)
    except UrlError:
        return None


def is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    return True


def host_kind(host: str) -> str:
    """'loopback', 'private' or 'public' for an address or host name.

    A DNS name other than localhost counts as public: clients may come from anywhere.
    """
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return "loopback"
    try:
        ip = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return "public"
    if ip.is_loopback:
        return "loopback"
    if ip.is_private or ip.is_link_local:
        return "private"
    return "public"


def net_timeout(ctx: Context) -> float:
    return float(wing_options(ctx).net_timeout)


def ssl_context(ctx: Context) -> "ssl.SSLContext":
    """The system's trust store plus --ca-file, as clients would verify the server."""
    import ssl

    def build() -> ssl.SSLContext:
        context = ssl.create_default_context()
        ca_file = wing_options(ctx).ca_file
        if ca_file:
            context.load_verify_locations(cafile=str(ca_file))
        return context

    return ctx.memo("net.ssl_context", build)


# The variables the rtc SDK (livekit 1.x) honours, by the URL's scheme: seen against server v1.13.5, a
# ws:// session goes through HTTP_PROXY while HTTPS_PROXY and ALL_PROXY leave it alone, and NO_PROXY
# (or no_proxy: "127.0.0.1", "localhost,127.0.0.1", even "*") changes nothing.
PROXY_VARIABLES = {"ws": ("HTTP_PROXY", "http_proxy"), "http": ("HTTP_PROXY", "http_proxy"),
                   "wss": ("HTTPS_PROXY", "https_proxy"), "https": ("HTTPS_PROXY", "https_proxy")}


def proxy_variable(env: Mapping[str, str], scheme: str) -> tuple[str, str] | None:
    """(variable name, the proxy's host:port) of the proxy variable the rtc SDK follows for `scheme`; None
    when none is set. The proxy's user and password are never returned."""
    from urllib.parse import urlsplit

    for name in PROXY_VARIABLES.get(scheme, ()):
        value = env.get(name, "").strip()
        if not value:
            continue
        parts = urlsplit(value if "://" in value else f"http://{value}")
        try:
            where = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        except ValueError:
            where = "an unparsable address"
        return name, where
    return None
