"""The real server fails while the media check runs: killed, stopped (SIGSTOP) or restarted. The
diagnosis must name what happened to the server, never blocked ports (which is what a media step
that stops answering looks like from inside the SDK).

The media path is made to hang (the server advertises an address nobody answers on, as in
tests/integration/test_session.py), which holds the check mid-media long enough to act on the server.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from conftest import clean_env, fix_of
from livekit_server import LiveKitServer

pytestmark = pytest.mark.integration

DEAD_MEDIA = {"rtc": {"ips": {"includes": ["127.0.0.3/32"]}, "stun_servers": ["127.0.0.1:3478"]}}


def _doctor_mid_media(server: LiveKitServer, tmp_path) -> subprocess.Popen[str]:
    """The doctor started on LK501 and returned once its session room exists (media is then under way)."""
    proc = subprocess.Popen([sys.executable, "-m", "livekit_doctor", "--select", "LK501", "--no-snapshot",
                             "--format", "json"], env=clean_env(**server.env()), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if any(r.startswith("doctor-") and not r.startswith("doctor-signal-") for r in server.rooms()):
                time.sleep(1.0)  # A is connecting: signalling done, ICE under way
                return proc
        except OSError:
            pass
        time.sleep(0.05)
    proc.kill()
    pytest.fail("the doctor never reached the media step")


def _lk501(proc: subprocess.Popen[str]) -> dict:
    out, err = proc.communicate(timeout=90)
    assert "Traceback" not in err, err
    assert proc.returncode == 1, (proc.returncode, err)
    return {r["check_id"]: r for r in json.loads(out)["results"]}["LK501"]


def test_server_killed_mid_media_is_the_server_going_away(start_server, tmp_path):
    server = start_server(node_ip="127.0.0.3", config=DEAD_MEDIA)
    proc = _doctor_mid_media(server, tmp_path)
    server.proc.kill()
    result = _lk501(proc)
    assert result["status"] == "fail"
    assert "the server went away during the check" in result["summary"]
    assert "no longer accepts connections (Connect call failed" in result["summary"] or \
        "no longer accepts connections (" in result["summary"]
    assert "blocked" not in result["summary"] + fix_of(result)
    assert "Check the server process" in fix_of(result)


def test_server_stopped_mid_media_is_the_server_not_answering(start_server, tmp_path):
    server = start_server(node_ip="127.0.0.3", config=DEAD_MEDIA)
    proc = _doctor_mid_media(server, tmp_path)
    server.pause()
    try:
        result = _lk501(proc)
    finally:
        server.resume()
    assert result["status"] == "fail"
    assert f"127.0.0.1:{server.port} accepts connections but no longer answers (stopped, paused or hung)" \
        in result["summary"]
    assert "blocked" not in result["summary"] + fix_of(result)


def test_server_restarted_mid_media_is_a_restart(start_server, tmp_path):
    server = start_server(node_ip="127.0.0.3", config=DEAD_MEDIA)
    proc = _doctor_mid_media(server, tmp_path)
    server.proc.kill()  # a crash and an immediate restart (a supervisor's): same ports and keys, no rooms
    server.start()
    result = _lk501(proc)
    assert result["status"] == "fail", result
    assert "the server restarted during the check" in result["summary"], result["summary"]
    assert "blocked" not in result["summary"] + fix_of(result)
