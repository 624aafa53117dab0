"""The gallery: broken and healthy setups as users have them, each produced for real against the
pinned server, each asserting the diagnosis's first root cause and words its fix must contain.
Healthy setups assert that nothing fails or warns: a doctor that cries wolf gets switched off.

A case is declarative: what is set up (environment, files in the project, extra arguments, a
helper that starts what the case needs) and what the first line of the diagnosis must be.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from app_backend import Backend
from certs import CertificateAuthority
from conftest import FIXTURES, clean_env
from livekit_server import LiveKitServer, free_port
from sdk_venvs import VenvBuildError, ensure_venv
from tls_proxy import TlsProxy
from web_server import serving

pytestmark = pytest.mark.integration
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
GALLERY_SEED = int(os.environ["GALLERY_SEED"])  # set and printed by conftest.py
WRONG_SECRET = "W" * 48
OTHER_KEY = "APIunknownKey9"


@dataclass
class Setup:
    """What a case gets: the shared server, a scratch project directory, and an exit stack for helpers."""

    server: LiveKitServer
    project: Path
    stack: contextlib.ExitStack
    ca: CertificateAuthority

    def env(self, **changes: str | None) -> dict[str, str]:
        env = self.server.env()
        for name, value in changes.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        return env

    def url(self, port: int, scheme: str = "ws", host: str = "127.0.0.1") -> str:
        return f"{scheme}://{host}:{port}"

    def write(self, name: str, text: str, mode: int = 0o600) -> Path:
        path = self.project / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        path.chmod(mode)
        return path

    def dotenv(self, url: str | None = None, key: str | None = None, secret: str | None = None, raw: str = "") -> None:
        lines = [f"LIVEKIT_URL={url or self.server.url}", f"LIVEKIT_API_KEY={key or self.server.api_key}",
                 f"LIVEKIT_API_SECRET={secret or self.server.api_secret}"]
        self.write(".env", raw or "\n".join(lines) + "\n", 0o644)

    def backend(self, mode: str, **env: str) -> str:
        return self.stack.enter_context(Backend(mode, clean_env(**self.env(**env)))).url

    def tls(self, **cert: Any) -> int:
        leaf, key = self.ca.leaf("gallery", **cert)
        return self.stack.enter_context(TlsProxy(leaf, key, self.server.port)).port

    def web(self, body: bytes = b"<html>it works</html>", status: int = 200) -> int:
        return self.stack.enter_context(serving(lambda path: (status, body)))

    def silent(self) -> int:
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        self.stack.callback(sock.close)
        return sock.getsockname()[1]

    def lk_config(self, key: str, secret: str, url: str | None = None) -> None:
        home = self.project / "home" / ".livekit"
        home.mkdir(parents=True, exist_ok=True)
        (home / "cli-config.yaml").write_text(
            f"default_project: dev\nprojects:\n  - name: dev\n    url: {url or self.server.url}\n"
            f"    api_key: {key}\n    api_secret: {secret}\n")

    def other_server(self, **kw: Any) -> LiveKitServer:
        """A server of the case's own (other keys or config), stopped when the case ends."""
        return self.stack.enter_context(LiveKitServer(self.server.binary, **kw))  # entering starts it

    def python(self, venv: str) -> str:
        try:
            return str(ensure_venv(venv))
        except (VenvBuildError, OSError) as exc:
            if IN_CI:
                pytest.fail(f"could not build SDK venv {venv}: {exc}")
            pytest.skip(f"could not build SDK venv {venv}: {exc}")


@dataclass
class Case:
    name: str
    root: str | None  # the diagnosis's first root cause; None: a healthy setup
    words: tuple[str, ...] = ()  # what the root cause's fix must say (case-insensitive)
    arrange: Callable[[Setup], tuple[dict[str, str], list[str]]] = field(default=lambda s: (s.env(), []))
    select: str = "LK0,LK1,LK2,LK3,LK4,LK502,LK503"  # the media round-trip has its own tests; healthy cases run it
    unvaried: tuple[str, ...] = ()  # variations that change what the case is (its HOME holds the lk config ...)
    wrap: tuple[str, ...] = ()  # the doctor's command runs under this (faketime)


def paused(server: LiveKitServer) -> LiveKitServer:
    server.pause()
    return server


def stopped(server: LiveKitServer) -> LiveKitServer:
    server.stop()
    return server


def env_only(**changes: str | None) -> Callable[[Setup], tuple[dict[str, str], list[str]]]:
    return lambda s: (s.env(**changes), [])


def no_livekit_env(s: Setup) -> dict[str, str]:
    return s.env(LIVEKIT_URL=None, LIVEKIT_API_KEY=None, LIVEKIT_API_SECRET=None)


def with_app(mode: str, **app_env: str) -> Callable[[Setup], tuple[dict[str, str], list[str]]]:
    return lambda s: (s.env(), ["--app-endpoint", s.backend(mode, **app_env)])


def with_code(fixture: str, mode: str = "broken") -> Callable[[Setup], tuple[dict[str, str], list[str]]]:
    return lambda s: (s.env(), ["--project", str(FIXTURES / fixture), "--app-endpoint", s.backend(mode)])


BROKEN = [
    # credentials: missing, damaged, swapped, overridden
    Case("nothing configured", "LK201.missing", ("LIVEKIT_URL", "LIVEKIT_API_KEY"), lambda s: (no_livekit_env(s), [])),
    Case("only the URL set", "LK201.missing", ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"),
         env_only(LIVEKIT_API_KEY=None, LIVEKIT_API_SECRET=None)),
    Case("secret missing", "LK201.missing", ("LIVEKIT_API_SECRET",), env_only(LIVEKIT_API_SECRET=None)),
    Case("wrong secret", "LK205.wrong-secret", ("secret",), env_only(LIVEKIT_API_SECRET=WRONG_SECRET)),
    Case("unknown key", "LK205.unknown-key", ("key", "keys"), env_only(LIVEKIT_API_KEY=OTHER_KEY)),
    Case("key and secret swapped", "LK203.keys-swapped", ("key and secret",),
         lambda s: (s.env(LIVEKIT_API_KEY=s.server.api_secret, LIVEKIT_API_SECRET=s.server.api_key), [])),
    Case("secret with a trailing newline", "LK203.secret-damaged", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_API_SECRET=s.server.api_secret + "\n"), [])),
    Case("secret with a trailing space", "LK203.secret-damaged", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_API_SECRET=s.server.api_secret + " "), [])),
    Case("secret in quotes (docker --env-file keeps them)", "LK203.secret-damaged", ("without quotes",),
         lambda s: (s.env(LIVEKIT_API_SECRET=f'"{s.server.api_secret}"'), [])),
    Case("the dev keys against a server with its own keys", "LK205.unknown-key", ("key",),
         env_only(LIVEKIT_API_KEY="devkey", LIVEKIT_API_SECRET="secret")),
    Case("exported secret overrides a correct .env", "LK205.override-refused", ("unset LIVEKIT_API_SECRET", ".env"),
         lambda s: (s.dotenv() or s.env(LIVEKIT_API_SECRET=WRONG_SECRET), ["--project", str(s.project)])),
    Case("wrong secret in .env", "LK205.wrong-secret", ("secret",),
         lambda s: (no_livekit_env(s), s.dotenv(secret=WRONG_SECRET) or ["--project", str(s.project)])),
    Case("unknown key in the lk CLI config", "LK205.unknown-key", ("key",),
         lambda s: (s.lk_config(OTHER_KEY, s.server.api_secret) or
                    {**no_livekit_env(s), "HOME": str(s.project / "home")}, [])),
    # the URL
    Case("URL without a scheme", "LK202.bad-scheme", ("ws://",), lambda s: (s.env(LIVEKIT_URL=f"127.0.0.1:{s.server.port}"), [])),
    Case("URL with /rtc", "LK202.livekit-path", ("no path",), lambda s: (s.env(LIVEKIT_URL=s.server.url + "/rtc"), [])),
    Case("URL with /twirp", "LK202.livekit-path", ("no path",), lambda s: (s.env(LIVEKIT_URL=s.server.url + "/twirp"), [])),
    Case("host does not resolve", "LK202.no-such-host", ("host name",),
         env_only(LIVEKIT_URL="wss://no-such-host.livekit-doctor.invalid")),
    Case("URL with a typo in the port: nothing listens", "LK004.no-server-on-port", ("signalling", "LIVEKIT_URL=ws://"),
         lambda s: (s.env(LIVEKIT_URL=s.url(free_port())), [])),
    Case("ws://localhost without a port (port 80)", "LK004.no-server-on-port", ("LIVEKIT_URL=ws://",),
         env_only(LIVEKIT_URL="ws://127.0.0.1")),
    Case("URL at the server's ICE/TCP port", "LK004.not-signalling-port", ("signalling",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.server.rtc_tcp_port)), ["--net-timeout", "2"])),
    Case("URL at a plain web server", "LK404.not-livekit", ("LIVEKIT_URL",), lambda s: (s.env(LIVEKIT_URL=s.url(s.web())), [])),
    Case("URL at a health endpoint only (proxy forwards /)", "LK404.partial-proxy", ("forward",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.web(b"OK"))), [])),
    Case("URL at the app's own backend", "LK404.not-livekit", ("LIVEKIT_URL",),
         lambda s: (s.env(LIVEKIT_URL=s.backend("correct").rsplit("/api", 1)[0].replace("http", "ws")), [])),
    Case("URL at a port that accepts and never answers", "LK404.no-answer", ("stopped",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.silent())), ["--net-timeout", "1"])),
    # TLS
    Case("wss:// to the plain port", "LK403.handshake-failed", ("ws://",), lambda s: (s.env(LIVEKIT_URL=s.url(s.server.port, "wss")), [])),
    Case("ws:// to a TLS port", "LK404.tls-port", ("wss://",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(), "ws", "localhost")), ["--net-timeout", "2"])),
    Case("self-signed certificate", "LK403.self-signed", ("--ca-file",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(self_signed=True), "wss", "localhost")), [])),
    Case("expired certificate", "LK403.certificate-expired", ("renew",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(expired=True), "wss", "localhost")), ["--ca-file", str(s.ca.path)])),
    Case("certificate for another host", "LK403.wrong-host", ("SAN",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(host="other.example.com"), "wss", "localhost")),
                    ["--ca-file", str(s.ca.path)])),
    Case("private CA not given", "LK403.untrusted-issuer", ("--ca-file",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(), "wss", "localhost")), [])),
    # the app's endpoint and its token
    Case("app endpoint not running", "LK502.endpoint-unreachable", ("Start the app",),
         lambda s: (s.env(), ["--app-endpoint", f"http://127.0.0.1:{free_port()}/api/voice/session"])),
    Case("app signs with another secret", "LK502.wrong-secret", ("same", "LIVEKIT_API_SECRET"), with_app("wrong-secret")),
    Case("app hands out expired tokens", "LK502.expired", ("TTL",), with_app("expired")),
    Case("app hands out another URL", "LK502.url-mismatch", ("URL",), with_app("other-url")),
    Case("app answers text, not JSON", "LK502.not-json", ("JSON",), with_app("not-json")),
    Case("app answers without a token", "LK502.no-token", ("token",), with_app("no-token")),
    Case("app token grants another room than it returns", "LK502.room-mismatch", ("room",), with_app("other-room")),
    Case("app returns the AccessToken object, not .to_jwt()", "LK502.token-object", (".to_jwt()", "rotate"),
         with_app("token-object")),
    Case("app with the un-awaited create_room (500)", "LK302.never-awaited", ("await",), with_code("app_backend")),
    Case("seeds' endpoint: RoomServiceClient with the official SDK", "LK301.unknown-name", ("LiveKitAPI", "from livekit import api"),
         with_code("codescan/broken_original")),
    Case("seeds' endpoint with every await removed (client built at import)", "LK304.client-outside-coroutine", ("inside async",),
         with_code("codescan/awaits_removed")),
    # the SDK in the app's interpreter
    Case("no LiveKit SDK in the app's venv", "LK101.not-installed", ("pip install livekit-api",),
         lambda s: (s.env(), ["--python", s.python("none")])),
    Case("only the rtc package in the app's venv", "LK101.rtc-only", ("pip install livekit-api",),
         lambda s: (s.env(), ["--python", s.python("rtc-only")])),
    Case("livekit-protocol older than livekit-api needs", "LK104.requirements-not-met", ("pip install -U",),
         lambda s: (s.env(), ["--python", s.python("protocol-mismatch")])),
    Case("livekit-api 0.2.0 with an aiohttp that refuses its int timeout", "LK104.aiohttp-rejects-timeout", ("install -U livekit-api",),
         lambda s: (s.env(), ["--python", s.python("api-0.2.0")])),
    # values damaged on the way in, sources that cannot be read
    Case("URL with a trailing newline", "LK202.whitespace", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_URL=s.server.url + "\n"), [])),
    Case("URL with a path of its own", "LK202.path", ("bare server URL",),
         lambda s: (s.env(LIVEKIT_URL=s.server.url + "/livekit"), [])),
    Case("key with a trailing newline", "LK203.key-damaged", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_API_KEY=s.server.api_key + "\n"), [])),
    Case("key in quotes", "LK203.key-damaged", ("without quotes",),
         lambda s: (s.env(LIVEKIT_API_KEY=f'"{s.server.api_key}"'), [])),
    Case("secret in single quotes", "LK203.secret-damaged", ("without quotes",),
         lambda s: (s.env(LIVEKIT_API_SECRET=f"'{s.server.api_secret}'"), [])),
    Case(".env saved as UTF-16 (Windows Notepad)", "LK201.source-unreadable", ("UTF-8",),
         lambda s: (no_livekit_env(s), (s.project / ".env").write_bytes(
             f"LIVEKIT_URL={s.server.url}\nLIVEKIT_API_KEY={s.server.api_key}\n".encode("utf-16"))
             and ["--project", str(s.project)])),
    Case(".env saved in Windows-1252 (an accented comment)", "LK201.source-unreadable", ("UTF-8",),
         lambda s: (no_livekit_env(s), (s.project / ".env").write_bytes(
             f"# cl\xe9s de d\xe9mo\nLIVEKIT_URL={s.server.url}\nLIVEKIT_API_KEY={s.server.api_key}\n".encode("cp1252"))
             and ["--project", str(s.project)])),
    Case("lk CLI config names a default project it does not define", "LK201.source-unreadable", ("file",),
         lambda s: (s.write("home/.livekit/cli-config.yaml",
                            "default_project: prod\nprojects:\n  - name: dev\n    url: ws://127.0.0.1:7880\n") and
                    {**no_livekit_env(s), "HOME": str(s.project / "home")}, [])),
    Case("exported key overrides a correct .env", "LK205.override-refused", ("unset LIVEKIT_API_KEY", ".env"),
         lambda s: (s.dotenv() or s.env(LIVEKIT_API_KEY=OTHER_KEY), ["--project", str(s.project)])),
    Case("this machine's clock 2 minutes ahead", "LK206.clock-behind", ("NTP",), wrap=("faketime", "-f", "+120s"),
         select="LK0,LK2,LK4"),
    Case("rooms are not auto-created", "LK205.room-missing", ("CreateRoom",),
         lambda s: (s.env(**s.other_server(config={"room": {"auto_create": False}}).env()), []),
         unvaried=("unrelated-warning",)),  # a warning beside another warning: neither explains the other
    Case("https:// to the plain port", "LK403.handshake-failed", ("ws://",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.server.port, "https")), [])),
    Case("secret with a carriage return (a CRLF .env sourced by the shell)", "LK203.secret-damaged",
         ("trailing newline",), lambda s: (s.env(LIVEKIT_API_SECRET=s.server.api_secret + "\r"), [])),
    Case("key and secret swapped in .env", "LK203.keys-swapped", ("key and secret",),
         lambda s: (no_livekit_env(s), s.dotenv(key=s.server.api_secret, secret=s.server.api_key)
                    or ["--project", str(s.project)])),
    Case("wrong secret in --env-file", "LK205.wrong-secret", ("secret",),
         lambda s: (no_livekit_env(s), s.write("deploy.env", f"LIVEKIT_URL={s.server.url}\nLIVEKIT_API_KEY="
                                                f"{s.server.api_key}\nLIVEKIT_API_SECRET={WRONG_SECRET}\n")
                    and ["--env-file", str(s.project / "deploy.env")])),
    Case("a wrong --api-secret flag over a correct environment", "LK205.override-refused", ("--api-secret",),
         lambda s: (s.env(), ["--api-secret", WRONG_SECRET])),
    Case("app endpoint accepts and never answers", "LK502.endpoint-timeout", ("blocking",),
         lambda s: (s.env(), ["--app-endpoint", f"http://127.0.0.1:{s.silent()}/api/voice/session",
                              "--net-timeout", "1"])),
    Case("wrong secret in the lk CLI config", "LK205.wrong-secret", ("secret",),
         lambda s: (s.lk_config(s.server.api_key, WRONG_SECRET) or
                    {**no_livekit_env(s), "HOME": str(s.project / "home")}, [])),
    Case("key from the environment, secret of another project from .env", "LK205.wrong-secret", ("secret",),
         lambda s: (s.env(LIVEKIT_API_SECRET=None), s.dotenv(secret=WRONG_SECRET) or ["--project", str(s.project)])),
    Case("the server is paused (Ctrl-Z, SIGSTOP)", "LK404.no-answer", ("SIGSTOP",),
         lambda s: (s.env(**paused(s.other_server()).env()), ["--net-timeout", "1"])),
    Case("the server was stopped: nothing at its port", "LK004.no-server-on-port", ("start",),
         lambda s: (s.env(**stopped(s.other_server()).env()), [])),
    # what the app's token allows against what its session does
    Case("app token without an identity", "LK502.no-identity", ("identity",), with_app("no-identity")),
    Case("app token with roomJoin false", "LK502.permission-denied", ("roomJoin",), with_app("no-join")),
    Case("app token that cannot publish", "LK502.cannot-publish", ("can_publish",), with_app("no-publish")),
    Case("app token that can publish only the camera", "LK502.cannot-publish", ("microphone",), with_app("no-mic")),
    Case("app token that cannot subscribe", "LK502.cannot-subscribe", ("can_subscribe",), with_app("no-subscribe")),
    Case("one identity for every caller (each join evicts the last)", "LK502.shared-identity", ("own identity",),
         with_app("shared-identity")),
    Case("app signs with HS512", "LK502.signing-method", ("HS256",), with_app("hs512")),
    Case("app mints with a key the server does not know", "LK502.unknown-key", ("LIVEKIT_API_KEY",),
         with_app("unknown-key")),
    Case("app's clock 5 minutes ahead", "LK502.not-yet-valid", ("NTP",), with_app("future-nbf")),
    Case("app endpoint raises (500) with clean code", "LK502.http-error", ("log",), with_app("error-500")),
    Case("app endpoint at the wrong path (404)", "LK502.http-error", ("log",),
         lambda s: (s.env(), ["--app-endpoint", s.backend("correct").replace("/session", "/sessions")])),
    # media
    Case("HTTP_PROXY in the environment without NO_PROXY", "LK501.proxy-variable", ("NO_PROXY", "HTTP_PROXY"),
         env_only(HTTP_PROXY="http://127.0.0.1:9"), select="LK0,LK2,LK4,LK501"),
    Case("HTTP_PROXY with the server in NO_PROXY (the rtc SDK ignores NO_PROXY)", "LK501.proxy-variable",
         ("unset HTTP_PROXY",), env_only(HTTP_PROXY="http://127.0.0.1:9", NO_PROXY="localhost,127.0.0.1"),
         select="LK0,LK2,LK4,LK501"),
    Case("a livekit.py in the project shadows the SDK", "LK102.shadowed-by-file", ("rename",),
         lambda s: (s.env(), s.write("livekit.py", "VERSION = 'mine'\n") and ["--project", str(s.project)])),
]

HEALTHY = [
    Case("credentials in the environment, with media", None, select="LK"),
    Case("credentials in a developer's .env (mode 0644)", None,
         arrange=lambda s: (no_livekit_env(s), s.dotenv() or ["--project", str(s.project)])),
    Case("credentials in the lk CLI config", None,
         arrange=lambda s: (s.lk_config(s.server.api_key, s.server.api_secret) or
                            {**no_livekit_env(s), "HOME": str(s.project / "home")}, [])),
    Case("credentials as flags", None,
         arrange=lambda s: (no_livekit_env(s), ["--url", s.server.url, "--api-key", s.server.api_key,
                                                "--api-secret", s.server.api_secret])),
    Case("http:// URL with a trailing slash", None,
         arrange=lambda s: (s.env(LIVEKIT_URL=s.server.http_url + "/"), [])),
    Case("TLS with a private CA given", None, select="LK",
         arrange=lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(), "wss", "localhost")), ["--ca-file", str(s.ca.path)])),
    Case("a correct app and its endpoint", None, select="LK",
         arrange=lambda s: (s.env(), ["--project", str(FIXTURES / "codescan" / "correct_lazy"),
                                      "--app-endpoint", s.backend("correct")])),
    Case("the app's answer in camelCase (accessToken, serverUrl)", None, select="LK",
         arrange=lambda s: (s.env(), ["--app-endpoint", s.backend("camel")])),
    Case("HTTPS_PROXY set for a ws:// server (the rtc SDK does not follow it there)", None, select="LK",
         arrange=env_only(HTTPS_PROXY="http://127.0.0.1:9")),
    Case("a short secret the server accepts (a note, no warning)", None,
         arrange=lambda s: (s.env(**s.other_server(keys={"APIshort": "short-but-works"}).env()), [])),
    Case("a certificate that expires in 5 days (a note)", None,
         arrange=lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(days=5), "wss", "localhost")), ["--ca-file", str(s.ca.path)])),
    Case("credentials in a world-readable .env (as /app in a container: a note)", None,
         arrange=lambda s: (no_livekit_env(s), s.dotenv() or ["--project", str(s.project)]),
         unvaried=("unrelated-warning",)),
    Case("credentials in --env-file", None,
         arrange=lambda s: (no_livekit_env(s), s.write("deploy.env", "".join(f"{k}={v}\n" for k, v in s.server.env().items()))
                            and ["--env-file", str(s.project / "deploy.env")])),
    Case("exported values equal to the .env's", None,
         arrange=lambda s: (s.env(), s.dotenv() or ["--project", str(s.project)])),
    Case("an app venv with the newest livekit-api", None,
         arrange=lambda s: (s.env(), ["--python", s.python("api-newest")])),
]


# "tidy": HOME is the case's directory, the project under it, 127.0.0.1, an idle machine; every other
# variation changes one condition that must not move the verdict
VARIATIONS = ("tidy", "app-dir-outside-home", "home-unset", "localhost", "unrelated-warning", "busy-cpu")


def chosen_variations(cases: list[Case], per_case: int = 2, exclude: tuple[str, ...] = ()) -> list[tuple[Case, str]]:
    """(case, variation) pairs: every case under `per_case` variations drawn with the run's seed
    (GALLERY_SEED, printed in the header, to replay a failure), or all with GALLERY_VARIATIONS=all.
    A variation is a condition that must not change the verdict."""
    import random

    rnd = random.Random(GALLERY_SEED)
    pairs = []
    for case in cases:
        allowed = [v for v in VARIATIONS if v not in case.unvaried and v not in exclude]
        picked = allowed if os.environ.get("GALLERY_VARIATIONS") == "all" else rnd.sample(allowed, min(per_case, len(allowed)))
        pairs += [(case, v) for v in picked]
    return pairs


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("gallery-ca"))


@pytest.fixture(scope="module")
def gallery_server(livekit_binary: Path) -> Iterator[LiveKitServer]:
    server = LiveKitServer(livekit_binary, config={"rtc": {"stun_servers": ["127.0.0.1:3478"]}})
    server.start()
    yield server
    server.stop()


@contextlib.contextmanager
def open_directory() -> Iterator[Path]:
    """A project directory every user can walk into, outside any HOME (as /app in a container, /srv/app)."""
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="lkd-gallery-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def busy_cpu(n: int = 2) -> Iterator[None]:
    """Two CPU-bound processes beside the doctor for the case's duration."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def vary(variation: str, env: dict[str, str], args: list[str], project: Path, home: Path) -> tuple[dict[str, str], list[str]]:
    """The case's environment and arguments under `variation` (the project directory is chosen by the caller)."""
    env = dict(env)
    if variation == "home-unset":
        if env.get("HOME") == str(home):
            env.pop("HOME")
    elif variation == "localhost":
        swap = lambda text: text.replace("://127.0.0.1", "://localhost")  # noqa: E731
        env = {k: swap(v) if k == "LIVEKIT_URL" else v for k, v in env.items()}
        args = [swap(a) if i and args[i - 1] == "--url" else a for i, a in enumerate(args)]
    elif variation == "unrelated-warning" and env.get("LIVEKIT_URL") and not (project / ".env").exists():
        # a stale .env under an exported variable: LK201 warns about the override, which explains nothing here
        (project / ".env").write_text("LIVEKIT_URL=ws://stale-host.livekit-doctor.invalid:7880\n")
    if variation == "app-dir-outside-home":
        dotenv = project / ".env"
        if dotenv.exists():
            dotenv.chmod(0o644)
        elif env.get("LIVEKIT_API_SECRET"):  # the same secret in a world-readable .env: a note, nothing more
            dotenv.write_text(f"LIVEKIT_API_SECRET={env['LIVEKIT_API_SECRET']}\n")
            dotenv.chmod(0o644)
    return env, args


def diagnose_case(case: Case, server: LiveKitServer, ca: CertificateAuthority, tmp_path: Path,
                  variation: str = "tidy") -> dict[str, Any]:
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(open_directory()) if variation == "app-dir-outside-home" else tmp_path
        project = base / "project"
        project.mkdir()
        setup = Setup(server, project, stack, ca)
        env, args = case.arrange(setup)
        env = clean_env(**{"HOME": str(tmp_path), **env})
        if "--project" not in args:
            args = [*args, "--project", str(project)]
        env, args = vary(variation, env, args, project, tmp_path)
        if variation == "busy-cpu":
            stack.enter_context(busy_cpu())
        proc = subprocess.run([*case.wrap, sys.executable, "-m", "livekit_doctor", "--select", case.select, "--format", "json",
                               "--no-snapshot", "--timeout", "60", *args],
                              capture_output=True, text=True, env=env, cwd=base, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


def assert_root(case: Case, doc: dict[str, Any]) -> None:
    """The diagnosis's first line: its first root cause, or (a setup whose only problem is a warning that
    explains nothing) its first independent warning; its code and the words its fix must hold."""
    results = {r["check_id"]: r for r in doc["results"]}
    roots, independent = doc["diagnosis"]["root_causes"], doc["diagnosis"]["independent"]
    assert roots or independent, "no problem: " + "; ".join(f"{k} {r['status']}" for k, r in results.items())
    found = {f["code"]: f for r in doc["results"] for f in r["findings"]}
    first = found[roots[0]["code"] if roots else independent[0]]
    assert first["code"] == case.root, (first["code"], first["message"], [r["code"] for r in roots], independent)
    missing = [w for w in case.words if w.lower() not in first["fix"].lower()]
    assert missing == [], (first["message"], first["fix"])


def assert_healthy(doc: dict[str, Any]) -> None:
    alarms = {r["check_id"]: (r["status"], r["summary"]) for r in doc["results"] if r["status"] in ("warn", "fail", "error")}
    assert alarms == {}
    assert doc["diagnosis"] == {"root_causes": [], "independent": []}
    assert doc["exit_code"] == 0


@pytest.mark.parametrize("case,variation", chosen_variations(BROKEN), ids=lambda v: v.name if isinstance(v, Case) else v)
def test_broken_setup_names_its_root_cause_first(case, variation, gallery_server, ca, tmp_path):
    assert_root(case, diagnose_case(case, gallery_server, ca, tmp_path, variation))


# a healthy setup with an unrelated warning added is no longer healthy: its variations are the other conditions
@pytest.mark.parametrize("case,variation", chosen_variations(HEALTHY, exclude=("unrelated-warning",)), ids=lambda v: v.name if isinstance(v, Case) else v)
def test_healthy_setup_raises_no_alarm(case, variation, gallery_server, ca, tmp_path):
    assert_healthy(diagnose_case(case, gallery_server, ca, tmp_path, variation))


def test_the_gallery_is_big_enough():
    assert len(BROKEN) >= 80 and len(HEALTHY) >= 15
