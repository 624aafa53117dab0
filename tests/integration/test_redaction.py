"""No 8-character piece of any secret leaves the doctor, in any format, against the real server.

The run uses generated secrets: the server's real key with a wrong secret (so server checks
fail and quote the server), a URL with a password, and the secret plugin, whose checks put a
registered secret, a JWT and a URL password into every field a result has and into an exception.
"""

from __future__ import annotations

import secrets

import pytest

from conftest import env_with_plugins
from livekit_doctor.render import FORMATS

pytestmark = pytest.mark.integration


def pieces(secret: str, size: int = 8) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


def test_no_secret_piece_in_any_output(livekit_server, plugin_site, run_doctor, tmp_path):
    wrong_secret = secrets.token_urlsafe(36)
    plugin_secret = "ps-" + secrets.token_hex(16)
    url_password = "pw-" + secrets.token_hex(8)
    signature = secrets.token_urlsafe(32)
    token = f"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJkb2N0b3IifQ.{signature}"
    summary_file = tmp_path / "step-summary.md"
    env = env_with_plugins(
        plugin_site("secret_plugin"),
        LIVEKIT_URL=f"ws://doctor:{url_password}@127.0.0.1:{livekit_server.port}",
        LIVEKIT_API_KEY=livekit_server.api_key, LIVEKIT_API_SECRET=wrong_secret,
        SECRET_PLUGIN_SECRET=plugin_secret, SECRET_PLUGIN_TOKEN=token,
        SECRET_PLUGIN_URL=f"https://admin:{url_password}@example.invalid/hook",
        GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary_file),
    )
    outputs: dict[str, str] = {}
    for fmt in FORMATS:
        proc = run_doctor("-v", "--format", fmt, "--snapshot", f"snap-{fmt}.md", "--junit", f"junit-{fmt}.xml",
                          env=env, timeout=180)
        assert proc.returncode == 1, proc.stderr
        outputs[f"stdout {fmt}"], outputs[f"stderr {fmt}"] = proc.stdout, proc.stderr
    for fmt in FORMATS:
        proc = run_doctor("report", "snap-json.md", "--format", fmt, "-v", env=env)
        assert proc.returncode == 0, proc.stderr
        outputs[f"report {fmt}"] = proc.stdout
    for path in tmp_path.iterdir():
        if path.is_file():
            outputs[path.name] = path.read_text(errors="replace")
    assert "SEC003" in outputs["stdout text"] and "RuntimeError" in outputs["stdout text"]  # the traceback was shown
    assert "[secret redacted]" in outputs["stdout json"] and "[token redacted]" in outputs["stdout json"]
    leaked = {(name, piece) for name, text in outputs.items()
              for secret in (wrong_secret, plugin_secret, url_password, signature, livekit_server.api_secret)
              for piece in pieces(secret) if piece in text}
    assert not leaked
