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
    Case("nothing configured", "LK201", ("LIVEKIT_URL", "LIVEKIT_API_KEY"), lambda s: (no_livekit_env(s), [])),
    Case("only the URL set", "LK201", ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"),
         env_only(LIVEKIT_API_KEY=None, LIVEKIT_API_SECRET=None)),
    Case("secret missing", "LK201", ("LIVEKIT_API_SECRET",), env_only(LIVEKIT_API_SECRET=None)),
    Case("wrong secret", "LK205", ("secret",), env_only(LIVEKIT_API_SECRET=WRONG_SECRET)),
    Case("unknown key", "LK205", ("key", "keys"), env_only(LIVEKIT_API_KEY=OTHER_KEY)),
    Case("key and secret swapped", "LK203", ("key and secret",),
         lambda s: (s.env(LIVEKIT_API_KEY=s.server.api_secret, LIVEKIT_API_SECRET=s.server.api_key), [])),
    Case("secret with a trailing newline", "LK203", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_API_SECRET=s.server.api_secret + "\n"), [])),
    Case("secret with a trailing space", "LK203", ("trailing newline",),
         lambda s: (s.env(LIVEKIT_API_SECRET=s.server.api_secret + " "), [])),
    Case("secret in quotes (docker --env-file keeps them)", "LK203", ("without quotes",),
         lambda s: (s.env(LIVEKIT_API_SECRET=f'"{s.server.api_secret}"'), [])),
    Case("the dev keys against a server with its own keys", "LK205", ("key",),
         env_only(LIVEKIT_API_KEY="devkey", LIVEKIT_API_SECRET="secret")),
    Case("exported secret overrides a correct .env", "LK205", ("unset LIVEKIT_API_SECRET", ".env"),
         lambda s: (s.dotenv() or s.env(LIVEKIT_API_SECRET=WRONG_SECRET), ["--project", str(s.project)])),
    Case("wrong secret in .env", "LK205", ("secret",),
         lambda s: (no_livekit_env(s), s.dotenv(secret=WRONG_SECRET) or ["--project", str(s.project)])),
    Case("unknown key in the lk CLI config", "LK205", ("key",),
         lambda s: (s.lk_config(OTHER_KEY, s.server.api_secret) or
                    {**no_livekit_env(s), "HOME": str(s.project / "home")}, [])),
    # the URL
    Case("URL without a scheme", "LK202", ("ws://",), lambda s: (s.env(LIVEKIT_URL=f"127.0.0.1:{s.server.port}"), [])),
    Case("URL with /rtc", "LK202", ("no path",), lambda s: (s.env(LIVEKIT_URL=s.server.url + "/rtc"), [])),
    Case("URL with /twirp", "LK202", ("no path",), lambda s: (s.env(LIVEKIT_URL=s.server.url + "/twirp"), [])),
    Case("host does not resolve", "LK202", ("host name",),
         env_only(LIVEKIT_URL="wss://no-such-host.livekit-doctor.invalid")),
    Case("URL with a typo in the port: nothing listens", "LK004", ("signalling", "LIVEKIT_URL=ws://127.0.0.1:"),
         lambda s: (s.env(LIVEKIT_URL=s.url(free_port())), [])),
    Case("ws://localhost without a port (port 80)", "LK004", ("LIVEKIT_URL=ws://127.0.0.1:",),
         env_only(LIVEKIT_URL="ws://127.0.0.1")),
    Case("URL at the server's ICE/TCP port", "LK004", ("signalling",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.server.rtc_tcp_port)), ["--net-timeout", "2"])),
    Case("URL at a plain web server", "LK404", ("LIVEKIT_URL",), lambda s: (s.env(LIVEKIT_URL=s.url(s.web())), [])),
    Case("URL at a health endpoint only (proxy forwards /)", "LK404", ("forward",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.web(b"OK"))), [])),
    Case("URL at the app's own backend", "LK404", ("LIVEKIT_URL",),
         lambda s: (s.env(LIVEKIT_URL=s.backend("correct").rsplit("/api", 1)[0].replace("http", "ws")), [])),
    Case("URL at a port that accepts and never answers", "LK404", ("stopped",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.silent())), ["--net-timeout", "1"])),
    # TLS
    Case("wss:// to the plain port", "LK403", ("ws://",), lambda s: (s.env(LIVEKIT_URL=s.url(s.server.port, "wss")), [])),
    Case("ws:// to a TLS port", "LK404", ("wss://",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(), "ws", "localhost")), ["--net-timeout", "2"])),
    Case("self-signed certificate", "LK403", ("--ca-file",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(self_signed=True), "wss", "localhost")), [])),
    Case("expired certificate", "LK403", ("renew",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(expired=True), "wss", "localhost")), ["--ca-file", str(s.ca.path)])),
    Case("certificate for another host", "LK403", ("SAN",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(host="other.example.com"), "wss", "localhost")),
                    ["--ca-file", str(s.ca.path)])),
    Case("private CA not given", "LK403", ("--ca-file",),
         lambda s: (s.env(LIVEKIT_URL=s.url(s.tls(), "wss", "localhost")), [])),
    # the app's endpoint and its token
    Case("app endpoint not running", "LK502", ("Start the app",),
         lambda s: (s.env(), ["--app-endpoint", f"http://127.0.0.1:{free_port()}/api/voice/session"])),
    Case("app signs with another secret", "LK502", ("same", "LIVEKIT_API_SECRET"), with_app("wrong-secret")),
    Case("app hands out expired tokens", "LK502", ("TTL",), with_app("expired")),
    Case("app hands out another URL", "LK502", ("URL",), with_app("other-url")),
    Case("app answers text, not JSON", "LK502", ("JSON",), with_app("not-json")),
    Case("app answers without a token", "LK502", ("token",), with_app("no-token")),
    Case("app token grants another room than it returns", "LK502", ("room",), with_app("other-room")),
    Case("app returns the AccessToken object, not .to_jwt()", "LK502", (".to_jwt()", "rotate"),
         with_app("token-object")),
    Case("app with the un-awaited create_room (500)", "LK302", ("await",), with_code("app_backend")),
    Case("seeds' endpoint: RoomServiceClient with the official SDK", "LK301", ("LiveKitAPI", "from livekit import api"),
         with_code("codescan/broken_original")),
    Case("seeds' endpoint with every await removed (client built at import)", "LK304", ("inside async",),
         with_code("codescan/awaits_removed")),
    # the SDK in the app's interpreter
    Case("no LiveKit SDK in the app's venv", "LK101", ("pip install livekit-api",),
         lambda s: (s.env(), ["--python", s.python("none")])),
    Case("only the rtc package in the app's venv", "LK101", ("pip install livekit-api",),
         lambda s: (s.env(), ["--python", s.python("rtc-only")])),
    Case("livekit-protocol older than livekit-api needs", "LK104", ("pip install -U",),
         lambda s: (s.env(), ["--python", s.python("protocol-mismatch")])),
    Case("livekit-api 0.2.0 with an aiohttp that refuses its int timeout", "LK104", ("install -U livekit-api",),
         lambda s: (s.env(), ["--python", s.python("api-0.2.0")])),
    Case("a livekit.py in the project shadows the SDK", "LK101", ("rename",),
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
    Case("an app venv with the newest livekit-api", None,
         arrange=lambda s: (s.env(), ["--python", s.python("api-newest")])),
]


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("gallery-ca"))


@pytest.fixture(scope="module")
def gallery_server(livekit_binary: Path) -> Iterator[LiveKitServer]:
    server = LiveKitServer(livekit_binary, config={"rtc": {"stun_servers": ["127.0.0.1:3478"]}})
    server.start()
    yield server
    server.stop()


def diagnose_case(case: Case, server: LiveKitServer, ca: CertificateAuthority, tmp_path: Path) -> dict[str, Any]:
    project = tmp_path / "project"
    project.mkdir()
    with contextlib.ExitStack() as stack:
        setup = Setup(server, project, stack, ca)
        env, args = case.arrange(setup)
        env = clean_env(**{"HOME": str(tmp_path), **env})
        if "--project" not in args:
            args = [*args, "--project", str(project)]
        proc = subprocess.run([sys.executable, "-m", "livekit_doctor", "--select", case.select, "--format", "json",
                               "--no-snapshot", "--timeout", "60", *args],
                              capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return json.loads(proc.stdout)


@pytest.mark.parametrize("case", BROKEN, ids=lambda c: c.name)
def test_broken_setup_names_its_root_cause_first(case, gallery_server, ca, tmp_path):
    doc = diagnose_case(case, gallery_server, ca, tmp_path)
    results = {r["check_id"]: r for r in doc["results"]}
    roots = doc["diagnosis"]["root_causes"]
    assert roots, "no root cause: " + "; ".join(f"{k} {r['status']}" for k, r in results.items())
    first = results[roots[0]["check_id"]]
    assert first["check_id"] == case.root, (first["check_id"], first["summary"], [r["check_id"] for r in roots])
    fix = first["fix"].lower()
    missing = [w for w in case.words if w.lower() not in fix]
    assert missing == [], (first["summary"], first["fix"])


@pytest.mark.parametrize("case", HEALTHY, ids=lambda c: c.name)
def test_healthy_setup_raises_no_alarm(case, gallery_server, ca, tmp_path):
    doc = diagnose_case(case, gallery_server, ca, tmp_path)
    alarms = {r["check_id"]: (r["status"], r["summary"]) for r in doc["results"] if r["status"] in ("warn", "fail", "error")}
    assert alarms == {}
    assert doc["diagnosis"] == {"root_causes": [], "independent": []}


def test_the_gallery_is_big_enough():
    assert len(BROKEN) >= 40 and len(HEALTHY) >= 8
