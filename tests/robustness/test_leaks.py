"""No output, report or file ever holds 8 characters in a row of a secret or of a token's signature.

The secrets are generated per test and put where real setups put them: the server's API secret in
the environment, the .env and a source file (split into two literals, and as a getenv default), a
password inside the URL (with an '@' in it), and an app's answers that echo them JSON-escaped,
URL-encoded, base64-encoded, or cut by a truncation. Every format and command runs over them:
the doctor (text live, json, markdown snapshot, junit, github annotations and step summary),
`report` re-rendering the saved run in every format, `token` (text, json) and `scan` (text, json,
sarif).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from pathlib import Path
from urllib.parse import quote

import jwt
import pytest

from inprocess import invoke
from livekit_doctor.render import FORMATS
from web_server import serving

pytestmark = pytest.mark.integration

WINDOW = 8


def windows(secret: str) -> set[str]:
    return {secret[i:i + WINDOW] for i in range(len(secret) - WINDOW + 1)}


def assert_no_leak(texts: dict[str, str], *secrets_: str) -> None:
    for name, text in texts.items():
        for secret in secrets_:
            found = sorted(w for w in windows(secret) if w in text)
            assert not found, f"{name} holds {found[:3]} of a secret:\n{text[:3000]}"


def everything_written(root: Path) -> dict[str, str]:
    """The files the doctor wrote under `root` (not the project it was given, which holds the secrets)."""
    return {str(p): p.read_text(errors="replace") for p in root.rglob("*")
            if p.is_file() and not {"project", "cache"} & set(p.relative_to(root).parts)}


def app_answers(secret: str, token: str) -> dict[str, tuple[int, bytes]]:
    """What a broken app's session endpoint answers, by path."""
    escaped = json.dumps({"error": f"bad config: {secret[:20]}\n{secret[20:]}"})  # the secret JSON-escaped, split
    body = "x" * 180 + secret + " url-encoded: " + quote(secret + "/") + " base64: " + \
        base64.b64encode(f"APIkey:{secret}".encode()).decode() + " " + escaped  # the first secret straddles the cut
    return {
        "/error": (500, body.encode()),
        "/object": (200, json.dumps({"token": {"api_key": "APIkey", "api_secret": secret, "identity": "u"}}).encode()),
        "/token": (200, json.dumps({"token": token, "url": "ws://127.0.0.1:9", "debug": f"signed with {secret}"}).encode()),
    }


@pytest.mark.parametrize("path", ["/error", "/object", "/token"])
def test_doctor_in_every_format_leaks_nothing(livekit_server, tmp_path, path):
    secret = livekit_server.api_secret
    url_password = "p@ss-" + secrets.token_urlsafe(24)
    token = jwt.encode({"iss": livekit_server.api_key, "sub": "u", "nbf": int(time.time()) - 5,
                        "exp": int(time.time()) + 600, "video": {"roomJoin": True, "room": "r"}}, secret)
    signature = token.rsplit(".", 1)[1]
    project = tmp_path / "project"
    project.mkdir()
    (project / ".env").write_text(f"LIVEKIT_API_SECRET={secret}\n")
    (project / "app.py").write_text(
        "import os\nfrom livekit import api\n"
        f"SECRET = {secret[:24]!r} {secret[24:]!r}\n"
        f"s2 = os.getenv('LIVEKIT_API_SECRET', {secret!r})\n"
        f"lk = api.LiveKitAPI('wss://x', 'APIabcdefgh', ({secret[:20]!r} {secret[20:]!r}))\n")
    answers = app_answers(secret, token)
    summary = tmp_path / "summary.md"
    with serving(lambda p: answers.get(p, (404, b""))) as port:
        env = {"LIVEKIT_URL": f"ws://doctor:{url_password}@127.0.0.1:{livekit_server.port}",
               "LIVEKIT_API_KEY": livekit_server.api_key, "LIVEKIT_API_SECRET": secret,
               "GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
        common = ["--select", "LK2,LK3,LK401,LK402,LK404,LK502", "--project", str(project), "-v",
                  "--app-endpoint", f"http://127.0.0.1:{port}{path}"]
        live = invoke([*common, "--no-snapshot"], tmp_path, **env)
        saved = invoke([*common, "--format", "json", "--output", str(tmp_path / "run.json"),
                        "--snapshot", str(tmp_path / "snap.md"), "--junit", str(tmp_path / "junit.xml")], tmp_path, **env)
    outputs = {"live text": live.out + live.err, "json run": saved.out + saved.err}
    for fmt in FORMATS:
        shown = invoke(["report", str(tmp_path / "run.json"), "--format", fmt, "-v"], tmp_path)
        outputs[f"report {fmt}"] = shown.out + shown.err
    outputs |= everything_written(tmp_path)
    assert_no_leak(outputs, secret, url_password.removeprefix("p@"), signature)
    run = json.loads((tmp_path / "run.json").read_text())
    results = {r["check_id"]: r for r in run["results"]}
    assert results["LK308"]["status"] == "warn"  # the literals were found, and shown masked
    assert results["LK502"]["status"] == "fail"
    assert "[secret redacted]" in outputs["live text"]  # the secrets did reach the output, and were removed
    if path == "/error":
        assert "the app answered: " + "x" * 180 + "[secret redacted]" in results["LK502"]["findings"][0]["evidence"][0]


def test_token_and_scan_leak_nothing(tmp_path):
    secret = secrets.token_urlsafe(36)
    token = jwt.encode({"iss": "APIkey", "sub": "u", "nbf": 0, "exp": 2 ** 31, "video": {"roomJoin": True,
                        "room": "r"}, "metadata": f"secret={secret}"}, secret)
    signature = token.rsplit(".", 1)[1]
    (tmp_path / "app.py").write_text(f"from livekit import api\nlk = api.LiveKitAPI('wss://x', 'APIkey1234', "
                                     f"{secret[:30]!r} {secret[30:]!r})\n")
    outputs = {}
    for fmt in ("text", "json"):
        for given in (token, f"Bearer {token}", f"https://meet.example/?access_token={token}"):
            shown = invoke(["token", "--no-server", "--format", fmt, "--api-secret", secret, given], tmp_path)
            outputs[f"token {fmt} {given[:8]}"] = shown.out + shown.err
    for fmt in ("text", "json", "sarif"):
        shown = invoke(["scan", "--no-cache", "--format", fmt, str(tmp_path)], tmp_path)
        outputs[f"scan {fmt}"] = shown.out + shown.err
    assert_no_leak(outputs, secret, signature)
    assert "hard-coded API secret" in outputs["scan text"]


def test_redaction_is_linear_time():
    from livekit_doctor.redact import Redactor

    redactor = Redactor([secrets.token_urlsafe(36)])
    hostile = ["ws://" + "a" * 100_000, "eyJ-" * 25_000, "a://" * 25_000, "ws://u:" + "@" * 100_000,
               "eyJ" + "a" * 50_000 + "." + "b" * 50_000]
    start = time.process_time()
    for text in hostile:
        redactor.redact(text)
    assert time.process_time() - start < 5  # quadratic patterns took minutes on the first of these


def test_every_form_of_a_secret_is_redacted():
    from livekit_doctor.redact import Redactor

    secret = secrets.token_urlsafe(36)
    redactor = Redactor([secret])
    forms = [secret, json.dumps(secret[:10] + "\n" + secret[10:]), quote(secret, safe=""),
             base64.b64encode(f"key:{secret}".encode()).decode(), base64.urlsafe_b64encode(secret.encode()).decode(),
             secret[:20] + "…", "…" + secret[-15:], f"{secret[:18]}' '{secret[18:]}"]
    for form in forms:
        assert_no_leak({form: redactor.redact(f"before {form} after")}, secret)
    assert Redactor().redact("wss://user:p@ss@w0rd@host:443/x") == "wss://user:***@host:443/x"
