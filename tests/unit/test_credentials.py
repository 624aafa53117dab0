import os
from pathlib import Path

import pytest

from livekit_doctor.checks.credentials import credentials_found, key_and_secret, server_url
from livekit_doctor.context import Context
from livekit_doctor.result import Status

SECRET = "q" * 40


def run(chk, tmp_path, env=None, files=None, **options):
    for name, text in (files or {}).items():
        (tmp_path / name).write_text(text)
        os.chmod(tmp_path / name, 0o600)
    ctx = Context(project_dir=tmp_path, options=options, env={"HOME": str(tmp_path)} | (env or {}))
    return chk.func(ctx)


def test_nothing_configured_says_what_to_set(tmp_path):
    r = run(credentials_found, tmp_path)
    assert r.status is Status.FAIL
    assert r.summary == "LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET are not set"
    assert r.fix.startswith("Set LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET in the environment")


def test_conflict_between_env_and_dotenv_warns_and_names_the_winner(tmp_path):
    r = run(credentials_found, tmp_path, env={"LIVEKIT_URL": "ws://a", "LIVEKIT_API_KEY": "APIenvkey1", "LIVEKIT_API_SECRET": SECRET},
            files={".env": "LIVEKIT_API_KEY=APIdotenv\n"})
    assert r.status is Status.WARN
    assert r.summary == "LIVEKIT_API_KEY: env LIVEKIT_API_KEY wins over a different value in .env"
    assert r.facts["config"]["api_secret"] == {"value": "[redacted, 40 characters]", "source": "env LIVEKIT_API_SECRET"}
    assert r.facts["config"]["api_key"] == {"value": "API…y1", "source": "env LIVEKIT_API_KEY"}


@pytest.mark.parametrize("url,status,summary", [
    ("ftp://host", Status.FAIL, "scheme 'ftp' is not one of ws, wss, http, https"),
    ("ws://host.invalid:7880", Status.FAIL, "host host.invalid does not resolve"),
    ("ws://localhost:7880/rtc", Status.FAIL, "the URL ends in /rtc, a path the SDKs add themselves: the server SDK "
                                             "posts to ws://localhost:7880/rtc/twirp/... and gets 404"),
    ("ws://localhost:7880/lk", Status.WARN, "ws://localhost:7880/lk: it has a path (/lk)"),
    ("ws://localhost:notaport", Status.FAIL, "the URL 'ws://localhost:notaport' does not parse"),
    ("ws://localhost:7880\n", Status.FAIL, "the URL from env LIVEKIT_URL has surrounding whitespace or a newline"),
    ("ws://127.0.0.1:7880", Status.PASS, "ws://127.0.0.1:7880 (plain WebSocket for clients"),
])
def test_url(tmp_path, url, status, summary):
    r = run(server_url, tmp_path, env={"LIVEKIT_URL": url})
    assert (r.status, r.summary[:len(summary)]) == (status, summary)


@pytest.mark.parametrize("files,env,status,summary", [
    ({".env": f'LIVEKIT_API_KEY=APIkey1234\nLIVEKIT_API_SECRET="{SECRET}\n"\n'}, {}, Status.FAIL,
     "LIVEKIT_API_SECRET from .env contains a newline"),
    ({}, {"LIVEKIT_API_KEY": "'APIkey1234'", "LIVEKIT_API_SECRET": SECRET}, Status.FAIL,
     "LIVEKIT_API_KEY from env LIVEKIT_API_KEY contains quotes kept as part of the value"),
    ({}, {"LIVEKIT_API_KEY": SECRET, "LIVEKIT_API_SECRET": "APIkey1234"}, Status.FAIL,
     "key and secret look swapped: the key is 40 characters, the secret API…34"),
    ({}, {"LIVEKIT_URL": "wss://voice.example.com", "LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret"},
     Status.FAIL, "the dev keys (devkey/secret) are used with voice.example.com: anyone who knows them can mint tokens"),
    ({}, {"LIVEKIT_URL": "ws://localhost:7880", "LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret"},
     Status.PASS, "key ******, secret of 6 characters, no stray whitespace"),
    ({}, {"LIVEKIT_API_KEY": "APIkey1234", "LIVEKIT_API_SECRET": "short-secret"}, Status.NOTE,
     "key API…34, secret of 12 characters, no stray whitespace"),
])
def test_key_and_secret(tmp_path, files, env, status, summary):
    r = run(key_and_secret, tmp_path, env=env, files=files)
    assert (r.status, r.summary) == (status, summary)


@pytest.fixture
def open_dir():
    """A directory every user can walk into (as /app in a container): /tmp itself is open, pytest's tmp is not."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


@pytest.mark.parametrize("home", ["elsewhere", "the project", None])
def test_a_dotenv_others_can_read_is_a_note_wherever_home_is(open_dir, home):
    """Readable by others is a fact of the file's mode and every directory above it, not of HOME; and hygiene."""
    (open_dir / ".env").write_text(f"LIVEKIT_API_KEY=APIkey1234\nLIVEKIT_API_SECRET={SECRET}\n")
    os.chmod(open_dir / ".env", 0o644)
    env = {"HOME": str(open_dir / "home") if home == "elsewhere" else str(open_dir)} if home else {"HOME": ""}
    r = run(key_and_secret, open_dir, env=env)
    assert r.status is Status.NOTE and [f.code for f in r.findings] == ["env-readable"]
    assert r.findings[0].message.startswith(f"{open_dir / '.env'} is readable by every user of this machine (mode "
                                            "-rw-r--r--")
    assert r.findings[0].fix == f"`chmod 600 {open_dir / '.env'}`"
    os.chmod(open_dir / ".env", 0o600)
    assert run(key_and_secret, open_dir, env=env).status is Status.PASS


def test_a_dotenv_with_mode_0644_under_a_closed_directory_is_private(tmp_path):
    """pytest's tmp_path lies under a 0700 directory (like a 0700 home): nobody else can reach the file."""
    (tmp_path / ".env").write_text(f"LIVEKIT_API_KEY=APIkey1234\nLIVEKIT_API_SECRET={SECRET}\n")
    os.chmod(tmp_path / ".env", 0o644)
    assert run(key_and_secret, tmp_path, env={"HOME": "/nonexistent"}).status is Status.PASS


@pytest.mark.parametrize("url", ["ws://10.1.2.3:7880", "ws://198.18.7.1:7880", "http://192.168.1.20:7880"])
def test_plain_ws_to_a_private_address_is_no_warning(tmp_path, url):
    """A LAN, a Docker network or a test network: plain ws:// is how those servers are reached."""
    r = run(server_url, tmp_path, env={"LIVEKIT_URL": url})
    assert (r.status, r.fix) == (Status.PASS, ""), r


def test_plain_ws_to_a_public_address_warns_with_the_tls_fix(tmp_path):
    r = run(server_url, tmp_path, env={"LIVEKIT_URL": "ws://8.8.8.8:7880"})
    assert r.status is Status.WARN
    assert r.summary == ("ws://8.8.8.8:7880: ws:// to a public address sends tokens unencrypted; browsers on https "
                         "pages refuse ws:// (mixed content)")
    assert r.fix == ("Serve the server behind TLS (a proxy or load balancer with a certificate for 8.8.8.8) and use "
                     "wss://8.8.8.8.")
