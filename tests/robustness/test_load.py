"""Several doctors at once against one real server, on this machine's few cores: the media round-trip
must not fail for lack of CPU (the tone is judged by its spectrum; starvation is named, never blamed
on ports), no run may abort (the media library's shutdown) or hang at exit, and no room is left.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import clean_env, fix_of

pytestmark = pytest.mark.integration

LOCAL_STUN = {"rtc": {"stun_servers": ["127.0.0.1:3478"]}}
DOCTORS = 4  # on 2 cores: twice as many media sessions as cores


def test_several_doctors_against_one_server(start_server, tmp_path):
    server = start_server(config=LOCAL_STUN)
    procs = []
    for i in range(DOCTORS):
        cwd = tmp_path / f"doctor{i}"
        cwd.mkdir()
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "livekit_doctor", "--select", "LK2,LK4,LK501", "--format", "json",
             "--no-snapshot"], cwd=cwd, env=clean_env(HOME=str(cwd), **server.env()),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    outcomes = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            for other in procs:
                other.kill()
            pytest.fail("a doctor did not exit")
        outcomes.append((proc.returncode, out, err))
    for code, out, err in outcomes:
        assert code >= 0, f"killed by signal {-code} (an abort at shutdown?):\n{err[-3000:]}"
        assert "Traceback" not in err and "panicked" not in err, err[-3000:]
        results = {r["check_id"]: r for r in json.loads(out)["results"]}
        media = results["LK501"]
        assert media["status"] == "pass", media["summary"]
        assert "blocked" not in media["summary"] + fix_of(media)
        assert abs(media["facts"]["heard_hz"] - 440) < 440 * 0.06  # TONE_TOLERANCE
        assert media["facts"]["room_deleted"] is True
        assert code == 0, [(r["check_id"], r["status"], r["summary"]) for r in results.values() if r["status"] != "pass"]
