"""LK2xx and `token` against the real server: every fault produced for real, cause asserted."""

from __future__ import annotations

import json
import secrets
import shutil
import time

import pytest

from livekit_doctor.checks.plumbing.server.tokens import join_grants, mint
from conftest import IN_CI, clean_env

pytestmark = pytest.mark.integration


def results(proc) -> dict[str, dict]:
    return {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}


def doctor_lk2(run_doctor, env, *extra):
    return results(run_doctor("--select", "LK2", "--format", "json", "--no-snapshot", *extra, env=env))


def test_correct_credentials_pass(livekit_server, run_doctor, tmp_path):
    r = doctor_lk2(run_doctor, clean_env(HOME=str(tmp_path), **livekit_server.env()))
    assert {cid: res["status"] for cid, res in r.items()} == {f"LK20{i}": "pass" for i in range(1, 7)}
    assert r["LK205"]["summary"].startswith("join token accepted by /rtc/validate and admin token by ListRooms")


def test_wrong_secret(livekit_server, run_doctor, tmp_path):
    env = clean_env(HOME=str(tmp_path), **livekit_server.env()) | {"LIVEKIT_API_SECRET": secrets.token_urlsafe(36)}
    r = doctor_lk2(run_doctor, env)["LK205"]
    assert (r["status"], r["summary"]) == ("fail", "ListRooms refused (HTTP 401): wrong API secret: the server's signature check failed")
    assert r["findings"][0]["code"] == "LK205.wrong-secret"
    assert "[token]" in r["findings"][0]["evidence"][0]  # the echoed token was cut out of the quoted answer


def test_unknown_key(livekit_server, run_doctor, tmp_path):
    env = clean_env(HOME=str(tmp_path), **livekit_server.env()) | {"LIVEKIT_API_KEY": "APIunknown" + secrets.token_hex(3)}
    r = doctor_lk2(run_doctor, env)["LK205"]
    assert (r["status"], r["summary"]) == ("fail", "ListRooms refused (HTTP 401): the server does not know this API key")


def test_auto_create_off_is_a_warning(start_server, run_doctor, tmp_path):
    server = start_server(config={"room": {"auto_create": False}})
    r = doctor_lk2(run_doctor, clean_env(HOME=str(tmp_path), **server.env()))["LK205"]
    assert (r["status"], r["summary"]) == ("warn", "tokens accepted, but joining needs an existing room: the room does "
                                                   "not exist and the server does not auto-create rooms")


def test_dotenv_secret_with_trailing_newline(livekit_server, run_doctor, tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(f'LIVEKIT_URL={livekit_server.url}\nLIVEKIT_API_KEY={livekit_server.api_key}\n'
                      f'LIVEKIT_API_SECRET="{livekit_server.api_secret}\n"\n')
    dotenv.chmod(0o600)
    r = doctor_lk2(run_doctor, clean_env(HOME=str(tmp_path)), "--project", str(tmp_path))
    assert (r["LK203"]["status"], r["LK203"]["summary"]) == ("fail", "LIVEKIT_API_SECRET from .env contains a newline")
    assert r["LK201"]["facts"]["config"]["api_secret"]["source"] == ".env"


def test_env_and_dotenv_disagree(livekit_server, run_doctor, tmp_path):
    (tmp_path / ".env").write_text(f"LIVEKIT_API_KEY=APIstale0000\nLIVEKIT_URL={livekit_server.url}\n")
    env = clean_env(HOME=str(tmp_path), **livekit_server.env())
    r = doctor_lk2(run_doctor, env, "--project", str(tmp_path))
    assert (r["LK201"]["status"], r["LK201"]["summary"]) == (
        "warn", "LIVEKIT_API_KEY: env LIVEKIT_API_KEY wins over a different value in .env")
    assert r["LK205"]["status"] == "pass"  # the winner is the server's key


def test_dev_keys_with_a_public_host(run_doctor, tmp_path):
    env = clean_env(HOME=str(tmp_path), LIVEKIT_URL="wss://voice.example.com", LIVEKIT_API_KEY="devkey",
                    LIVEKIT_API_SECRET="secret")
    r = doctor_lk2(run_doctor, env, "--select", "LK203")["LK203"]
    assert (r["status"], r["summary"]) == (
        "fail", "the dev keys (devkey/secret) are used with voice.example.com: anyone who knows them can mint tokens")


def test_nothing_configured(run_doctor, tmp_path):
    proc = run_doctor("--select", "LK2", "--no-snapshot", env=clean_env(HOME=str(tmp_path)))
    assert proc.returncode == 1
    lines = [line for line in proc.stdout.splitlines() if line[:4] in ("PASS", "FAIL", "SKIP", "WARN")]
    assert lines[0].startswith("FAIL  LK201  Credentials found: LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET are not set")
    assert {line.split()[1]: line.split()[0] for line in lines[1:6]} == {
        "LK202": "SKIP", "LK203": "SKIP", "LK204": "SKIP", "LK205": "SKIP", "LK206": "SKIP"}


@pytest.mark.skipif(shutil.which("faketime") is None and not IN_CI, reason="faketime (Debian package) not installed")
def test_clock_skew_for_real_with_faketime(livekit_server, tmp_path):
    """The doctor runs 2 minutes in the future (libfaketime): fresh tokens are not valid yet for the server."""
    import subprocess
    import sys

    env = clean_env(HOME=str(tmp_path), **livekit_server.env())
    proc = subprocess.run(["faketime", "-f", "+120s", sys.executable, "-m", "livekit_doctor", "--select", "LK2",
                           "--format", "json", "--no-snapshot"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    r = results(proc)
    assert r["LK206"]["status"] == "fail"  # past the server's 60 s leeway: every fresh token is refused
    assert r["LK206"]["summary"].startswith("the server's clock is 12") and r["LK206"]["summary"].endswith(
        " s behind this machine")
    assert r["LK205"]["summary"] == ("ListRooms refused (HTTP 401): the token is not valid yet (nbf in the server's "
                                     "future): clock skew")
    assert r["LK205"]["findings"][0]["code"] == "LK205.not-yet-valid"
    assert r["LK205"]["findings"][0]["caused_by"] == ["LK206.clock-behind"]  # the skew is the root cause
    doc = json.loads(proc.stdout)
    root = doc["diagnosis"]["root_causes"][0]
    assert (root["code"], root["consequences"]) == ("LK206.clock-behind", ["LK205.not-yet-valid"])


@pytest.mark.parametrize("how,cause", [
    ("expired", "the token is expired"),
    ("future", "the token is not valid yet (nbf in the server's future): clock skew"),
    ("no-grants", "permission denied: the token lacks the grant this call needs"),
    ("no-room-join", "permission denied: the token lacks the grant this call needs"),
])
def test_token_command_against_the_server(livekit_server, run_doctor, tmp_path, how, cause):
    key, secret, now = livekit_server.api_key, livekit_server.api_secret, time.time()
    video = {"no-grants": {}, "no-room-join": {"room": "r1", "canPublish": True}}.get(how, join_grants("r1"))
    when = {"expired": now - 7200, "future": now + 3600}.get(how, now)
    token = mint(key, secret, identity="alice", video=video, now=when, ttl=600)
    proc = run_doctor("token", "-", input=token + "\n", env=clean_env(HOME=str(tmp_path), **livekit_server.env()))
    assert proc.returncode == 1
    assert f"server:     rejected by {livekit_server.url} (HTTP 401): {cause}" in proc.stdout
    assert "signature:  valid for the configured API secret" in proc.stdout
    assert token.split(".")[2] not in proc.stdout


def test_token_command_good_malformed_and_secret_never_shown(livekit_server, run_doctor, tmp_path):
    env = clean_env(HOME=str(tmp_path), **livekit_server.env())
    token = mint(livekit_server.api_key, livekit_server.api_secret, identity="bob", video=join_grants("r"), ttl=6 * 3600)
    proc = run_doctor("token", token, env=env)
    assert proc.returncode == 0, proc.stdout
    assert "expires:" in proc.stdout and "(in 5 h 59 min)" in proc.stdout
    assert f"server:     accepted by {livekit_server.url} (/rtc/validate)" in proc.stdout
    for piece in (livekit_server.api_secret[:8], token.split(".")[2][:8], livekit_server.api_key):
        assert piece not in proc.stdout
    bad = run_doctor("token", "not-a-token", env=env)
    assert (bad.returncode, bad.stdout) == (2, "")
    assert bad.stderr == "livekit-doctor: error: the token is malformed (not a JWT: 1 part separated by '.', not 3 (header.payload.signature))\n"
