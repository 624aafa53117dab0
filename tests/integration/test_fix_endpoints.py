"""`livekit-doctor fix --write` proven on the seeds' broken FastAPI endpoint against the real server.

Each version is copied, run with uvicorn before the fix (it fails the way users saw it fail: a 500, or
an app that never starts), fixed, run again: POST /api/voice/session answers 200 with a token the
server accepts, and the doctor's own --app-endpoint run (LK502 with the code scan) passes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from conftest import FIXTURES, clean_env
from livekit_server import free_port

pytestmark = pytest.mark.integration

# version -> how it fails before the fix: an HTTP status, or the error that keeps uvicorn from starting
VERSIONS = {
    "codescan/broken_original": "ImportError: cannot import name 'RoomServiceClient' from 'livekit.api'",
    "codescan/awaits_removed": "RuntimeError: no running event loop",
    "fix/import_time_client": "RuntimeError: no running event loop",
    "fix/room_service_in_handler": 500,
    "fix/unawaited_500": 500,
    "fix/sync_endpoint_500": 500,
}


class Uvicorn:
    """`uvicorn main:app` in the app's directory, on a free port; `failure` holds its output if it exits."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/voice/session"
        self.proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "main:app", "--port", str(self.port)],
                                     cwd=directory, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        self.failure: str | None = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.failure = self.proc.stdout.read()
                return
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/docs", timeout=1).close()
                return
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.1)
        pytest.fail("uvicorn did not answer within 30 s")

    def post(self) -> tuple[int, dict]:
        request = urllib.request.Request(self.url, data=json.dumps({"user_id": "alice"}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=15) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, {}

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        return self.failure or self.proc.stdout.read()


def validate(server, token: str) -> tuple[int, str]:
    url = f"{server.http_url}/rtc/validate?access_token={urllib.parse.quote(token)}"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@pytest.mark.parametrize("version", list(VERSIONS))
def test_fix_makes_the_endpoint_answer(version, livekit_server, run_doctor, tmp_path):
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / version, app)
    env = clean_env(**livekit_server.env(), VIRTUAL_ENV="")

    before = Uvicorn(app, env)
    try:
        if isinstance(VERSIONS[version], int):
            assert before.failure is None, before.failure
            assert before.post()[0] == VERSIONS[version]
        else:
            assert before.failure is not None and VERSIONS[version] in before.failure
    finally:
        before.stop()

    fixed = run_doctor("fix", str(app), "--write", "--snapshot", str(tmp_path / "fix.md"), env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    assert "written to 1 file" in fixed.stdout and "left to you" not in fixed.stdout
    record = (tmp_path / "fix.md").read_text()
    assert "## Changed" in record and "main.py:" in record and livekit_server.api_secret not in record

    after = Uvicorn(app, env)
    try:
        assert after.failure is None, after.failure
        status, body = after.post()
        assert status == 200 and "voice-alice" in json.dumps(body)  # the room the app created or named
        assert validate(livekit_server, body["token"]) == (200, "success")
        doctor = run_doctor("--select", "LK3,LK502", "--format", "json", "--no-snapshot", "--project", str(app),
                            "--app-endpoint", after.url, env=env)
        results = {r["check_id"]: r for r in json.loads(doctor.stdout)["results"]}
        assert doctor.returncode == 0, doctor.stdout
        assert results["LK502"]["status"] == "pass", results["LK502"]
        assert {r["status"] for cid, r in results.items() if cid.startswith("LK3")} == {"pass"}
    finally:
        log = after.stop()
    assert "Unclosed client session" not in log  # closed on shutdown / by `async with`

    again = run_doctor("fix", str(app), "--write", "--no-snapshot", env=env)
    assert (again.returncode, again.stdout.splitlines()[-1]) == (0, "nothing to fix mechanically")


def test_fix_command_diff_write_and_exit_codes(run_doctor, tmp_path):
    """Dry run: the diff, exit 1, nothing written; --write: applied, .env backed up; secrets never shown."""
    app = tmp_path / "app"
    shutil.copytree(FIXTURES / "fix" / "unawaited_500", app)
    secret = "s3cr3t" + "0123456789abcdef" * 3
    dotenv = f'LIVEKIT_URL=ws://127.0.0.1:7880\nLIVEKIT_API_KEY=APIabc\nLIVEKIT_API_SECRET="{secret}\n"\n'
    (app / ".env").write_text(dotenv)
    env = clean_env(VIRTUAL_ENV="")
    dry = run_doctor("fix", str(app), env=env)
    assert dry.returncode == 1, dry.stderr
    assert "+        room = await lkapi.room.create_room(" in dry.stdout and "--- a/.env" in dry.stdout
    assert dry.stdout.splitlines()[-1] == "3 fixes in 2 files (run with --write to apply them)"
    assert (app / ".env").read_text() == dotenv and "await lkapi.room" not in (app / "main.py").read_text()
    done = run_doctor("fix", str(app), "--write", "--snapshot", str(tmp_path / "fix.md"), env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1] == "3 fixes written to 2 files (.env backed up to .env.bak)"
    assert (app / ".env.bak").read_text() == dotenv
    assert (app / ".env").read_text().endswith(f'LIVEKIT_API_SECRET="{secret}"\n')
    record = (tmp_path / "fix.md").read_text()
    assert "### .env:3 LK203" in record and "### main.py:13 LK302" in record
    assert not [text for text in (dry.stdout, dry.stderr, done.stdout, done.stderr, record) if secret[:12] in text]
    bad = run_doctor("fix", str(app), "--select", "await", env=env)
    assert bad.returncode == 2 and "not a rule ID" in bad.stderr and "Traceback" not in bad.stderr
