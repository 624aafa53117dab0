"""One URL parser, one port rule and one host classifier for every check."""

import asyncio

import pytest

from livekit_doctor.checks import credentials, environment, reachability
from livekit_doctor.checks.plumbing.config.target import UrlError, host_kind, parse_url, target
from livekit_doctor.context import Context


@pytest.mark.parametrize("url, port, explicit", [
    ("ws://example.com", 80, False), ("http://example.com", 80, False), ("wss://example.com", 443, False),
    ("https://example.com/", 443, False), ("ws://example.com:7880", 7880, True), (" ws://[::1]:9\n", 9, True),
])
def test_port_rule_is_the_schemes_default(url, port, explicit):
    t = parse_url(url)
    assert (t.port, t.explicit_port) == (port, explicit)


@pytest.mark.parametrize("url, message", [
    ("ftp://example.com", "scheme 'ftp' is not one of ws, wss, http, https"),
    ("ws://", "has no host"),
    ("ws://[::1:7880", "does not parse"),
    ("example.com:7880", "is not one of"),
])
def test_bad_urls_say_why(url, message):
    with pytest.raises(UrlError, match=message.replace("(", r"\(")):
        parse_url(url)


def test_http_and_ws_bases_keep_the_port_and_drop_credentials_and_path():
    t = parse_url("wss://user:pw@lk.example.com/rtc?x=1")
    assert (t.http_base, t.ws_base, t.path, t.query) == ("https://lk.example.com:443", "wss://lk.example.com:443", "/rtc", "x=1")
    assert parse_url("ws://[::1]:7880").http_base == "http://[::1]:7880"


@pytest.mark.parametrize("host, kind", [
    ("localhost", "loopback"), ("app.localhost", "loopback"), ("127.0.0.1", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("192.168.0.4", "private"), ("fe80::1%eth0", "private"), ("8.8.8.8", "public"),
    ("lk.example.com", "public"),
])
def test_one_host_classifier(host, kind):
    assert host_kind(host) == kind


def test_ws_url_without_port_means_port_80_to_every_check(tmp_path, unused_tcp_port=None):
    """LK202, LK004 and LK402 all judge port 80 for ws://127.0.0.1 (the SDKs' rule), not 7880."""
    ctx = Context(project_dir=tmp_path, options={"url": "ws://127.0.0.1", "api_key": "k", "api_secret": "s",
                                                 "net_timeout": 1.0}, env={"HOME": str(tmp_path)})
    assert target(ctx).port == 80
    assert credentials.server_url.func(ctx).facts["port"] is None  # none written: the default applies
    assert asyncio.run(environment.servers.func(ctx)).facts["expected_port"] == 80
    result = asyncio.run(reachability.tcp_check.func(ctx))
    assert result.facts["port"] == 80


def test_lk004_reads_the_port_from_dotenv(tmp_path):
    (tmp_path / ".env").write_text("LIVEKIT_URL=ws://127.0.0.1:17880\nLIVEKIT_API_KEY=k\nLIVEKIT_API_SECRET=s\n")
    ctx = Context(project_dir=tmp_path, options={}, env={"HOME": str(tmp_path)})
    assert asyncio.run(environment.servers.func(ctx)).facts["expected_port"] == 17880


def test_no_plumbing_module_shadows_the_standard_library():
    """sdk_probe.py runs by path in the app's interpreter, its folder first on sys.path: a sibling
    named like a standard module (signal.py, http.py) would replace it there."""
    import sys
    from pathlib import Path

    from livekit_doctor.checks.plumbing.sdk import interpreter

    siblings = {p.stem for p in Path(interpreter.PROBE).parent.glob("*.py")}
    assert siblings & set(sys.stdlib_module_names) == set()
