"""LK601-LK604 against the real server and real livekit-agents workers (tests/fixtures/agents/*).

Each cause the doctor names is produced for real: a worker that answers, one that crashes in
its entrypoint, one that joins and leaves, one that never publishes, one registered under
another name, one whose load threshold keeps it full, and no worker at all. LK605 calls the
app's own endpoint (tests/fixtures/app_backend in its agent modes) and waits in the room it made.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agent_worker import AGENTS, AgentWorker
from app_backend import Backend
from conftest import IN_CI, clean_env
from livekit_server import LiveKitServer
from sdk_venvs import VenvBuildError, ensure_venv

pytestmark = [pytest.mark.integration, pytest.mark.sdk_venvs]

LOCAL_STUN = {"rtc": {"stun_servers": ["127.0.0.1:3478"]}}


def venv_python(name: str) -> Path:
    try:
        return ensure_venv(name)
    except (VenvBuildError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"could not build venv {name}: {exc}")
        pytest.skip(f"could not build venv {name}: {exc}")


@pytest.fixture(scope="module")
def server(livekit_binary):
    srv = LiveKitServer(livekit_binary, config=LOCAL_STUN)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def newest() -> Path:
    return venv_python("agents-newest")


def codes(result: dict) -> list[str]:
    return [f["code"] for f in result["findings"]]


def doctor(server: LiveKitServer, project: Path, python: Path, *args: str, timeout: float = 120) -> dict:
    proc = subprocess.run(
        [sys.executable, "-m", "livekit_doctor", "--format", "json", "--no-snapshot", "--select", "LK6",
         "--python", str(python), *args],
        capture_output=True, text=True, cwd=project, env=clean_env(**server.env()), timeout=timeout)
    assert proc.returncode in (0, 1), proc.stderr
    return {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}


@pytest.mark.parametrize("venv", ["agents-newest", "agents-1.2"])
def test_echo_agent_joins_and_answers(server, venv):
    python = venv_python(venv)
    with AgentWorker("echo", python, server):
        r = doctor(server, AGENTS / "echo", python)
    assert r["LK601"]["status"] == "pass", r["LK601"]
    assert r["LK602"]["summary"] == "worker registers 'echo' (agent.py:63) (explicit dispatch only)"
    assert all(r[cid]["findings"] == [] for cid in ("LK601", "LK602", "LK603", "LK604")), r
    lk603 = r["LK603"]
    assert lk603["status"] == "pass", lk603
    assert lk603["summary"].startswith("'echo' dispatched and joined as agent-AJ_")
    assert "publishes audio 'echo-voice'; room deleted" in lk603["summary"]
    assert 0 < lk603["facts"]["joined_ms"] <= lk603["facts"]["first_track_ms"]  # on the server's clock
    lk604 = r["LK604"]
    assert lk604["status"] == "pass", lk604
    assert lk604["summary"].startswith("voice-to-voice latency p50 ") and "over 2 turns" in lk604["summary"]
    # the echo agent's endpointing waits 150 ms below its gate, which the syllable's fading tail (the last
    # ~40 ms) is already under: no answer can come sooner than ~110 ms after the last sample
    assert len(lk604["facts"]["latencies_ms"]) == 2 and min(lk604["facts"]["latencies_ms"]) > 100
    assert server.rooms("doctor-") == []


def test_entrypoint_crash_is_a_failed_job(server, newest):
    with AgentWorker("crash", newest, server):
        r = doctor(server, AGENTS / "crash", newest, "--agent-turns", "0")
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.job-failed"]
    assert r["LK603"]["summary"].startswith("the job for 'crash' failed: worker AW_")
    assert "did not join within 10 s" in r["LK603"]["summary"]
    assert r["LK603"]["facts"]["job"]["status"] == "JS_RUNNING"  # the server keeps the assignment's state
    assert r["LK603"]["findings"][0]["evidence"][0].startswith("ListDispatch: job AJ_")  # the server's record
    assert r["LK604"]["status"] == "skip"
    assert server.rooms("doctor-") == []


def test_agent_that_joins_and_leaves(server, newest):
    with AgentWorker("leaves", newest, server):
        r = doctor(server, AGENTS / "leaves", newest)
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.left"]
    assert r["LK603"]["summary"].startswith("'leaves' joined and left: agent-AJ_")


def test_agent_that_publishes_nothing(server, newest):
    with AgentWorker("silent", newest, server):
        r = doctor(server, AGENTS / "silent", newest)
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.silent"]
    assert r["LK603"]["summary"].startswith("'silent' joined but publishes nothing: agent-AJ_")
    assert r["LK603"]["summary"].endswith("published no track within 5 s")


def test_worker_registered_under_another_name(server, newest):
    with AgentWorker("other_name", newest, server) as worker:
        r = doctor(server, AGENTS / "other_name", newest, "--agent", "sales-agent", "--agent-turns", "0")
    assert r["LK602"]["status"] == "fail" and codes(r["LK602"]) == ["LK602.name-mismatch"]
    assert r["LK602"]["summary"] == ("the app dispatches 'sales-agent' (app.py:9) but the worker registers "
                                     "'support-agent' (agent.py:20): no worker takes that job")
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.no-worker"]
    assert r["LK603"]["findings"][0]["caused_by"] == ["LK602.name-mismatch"]  # the root: one name on both sides
    assert f"GET http://127.0.0.1:{worker.port}/worker: agent_name 'support-agent'" in \
        r["LK603"]["findings"][0]["evidence"][0]  # the worker's own health answer
    summary = r["LK603"]["summary"]
    assert summary.startswith("no worker is registered as 'sales-agent': the dispatch got no job; the workers on this "
                              "machine register ")
    assert f"support-agent on port {worker.port}" in summary


def test_worker_at_full_capacity_takes_no_job(server, newest):
    with AgentWorker("full", newest, server) as worker:
        r = doctor(server, AGENTS / "full", newest, "--agent-turns", "0")
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.worker-unavailable"]
    assert r["LK603"]["summary"].startswith(f"a worker registered as 'full' runs on this machine (health port "
                                            f"{worker.port}, load ")
    assert "load_threshold" in r["LK603"]["findings"][0]["fix"]


def test_no_worker_at_all(server, newest, tmp_path):
    r = doctor(server, tmp_path, newest, "--agent", "nobody", "--agent-turns", "0")
    assert r["LK601"]["status"] == "pass"  # --agent puts an agent in play: the interpreter's SDK is judged
    assert r["LK603"]["status"] == "fail", {k: v["summary"] for k, v in r.items()}
    assert codes(r["LK603"]) == ["LK603.no-worker"]
    assert r["LK603"]["summary"].startswith("no worker is registered as 'nobody': the dispatch got no job")
    assert server.rooms("doctor-") == []


def test_no_agent_in_play_skips_everything(server, tmp_path):
    r = doctor(server, tmp_path, Path(sys.executable))
    for cid in ("LK601", "LK602", "LK603"):
        assert r[cid]["status"] == "skip", r[cid]
        assert r[cid]["summary"] == ("no voice agent in play: the project does not use livekit-agents and no "
                                     "--agent NAME was given")
    assert r["LK604"]["status"] == "skip"


def test_agents_release_that_does_not_import(server, tmp_path):
    python = venv_python("agents-1.2-no-httpx")
    (tmp_path / "agent.py").write_text("from livekit.agents import WorkerOptions\n")
    r = doctor(server, tmp_path, python, "--agent-turns", "0")
    assert r["LK601"]["status"] == "fail" and codes(r["LK601"]) == ["LK601.import-fails"]
    assert r["LK601"]["findings"][0]["evidence"] == ["ModuleNotFoundError: No module named 'httpx'"]
    assert r["LK601"]["summary"].startswith("livekit-agents 1.2.")
    assert r["LK601"]["summary"].endswith("is installed but `import livekit.agents` fails: ModuleNotFoundError: "
                                          "No module named 'httpx'")
    assert "-m pip install httpx" in r["LK601"]["findings"][0]["fix"]


def test_ctrl_c_deletes_the_room(server, newest):
    with AgentWorker("crash", newest, server):  # the doctor waits 10 s for an agent that never comes
        proc = subprocess.Popen(
            [sys.executable, "-m", "livekit_doctor", "--no-snapshot", "--select", "LK603", "--python", str(newest)],
            cwd=AGENTS / "crash", env=clean_env(**server.env()), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while not server.rooms("doctor-") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.rooms("doctor-"), "the doctor never created its room"
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert server.rooms("doctor-") == []


def through_the_app(server: LiveKitServer, mode: str, python: Path, *args: str) -> dict:
    with Backend(mode, clean_env(**server.env())) as backend:
        return doctor(server, AGENTS / "echo", python, "--agent-turns", "0", "--app-endpoint", backend.url, *args)


@pytest.mark.parametrize("mode, how", [("agent", "the API"), ("agent-token", "its token's roomConfig.agents")])
def test_agent_joins_the_apps_room(server, newest, mode, how):
    with AgentWorker("echo", newest, server):
        r = through_the_app(server, mode, newest)
    lk605 = r["LK605"]
    assert lk605["status"] == "pass" and lk605["findings"] == [], lk605
    assert lk605["summary"].startswith("the app's room 'voice-livekit-doctor-")
    assert f"'echo' (dispatched by {how}) joined as agent-AJ_" in lk605["summary"]
    assert lk605["summary"].endswith("; room deleted")
    assert lk605["facts"]["agent_id_sent"] == "echo"  # the worker's agent_name, read from the project's code
    assert server.rooms() == []  # the app's room and the doctor's own


def test_app_dispatches_a_name_no_worker_has(server, newest):
    with AgentWorker("echo", newest, server) as worker:
        r = through_the_app(server, "agent", newest, "--app-payload", '{"agent_id": "sales-agent"}')
    lk605 = r["LK605"]
    assert lk605["status"] == "fail" and codes(lk605) == ["LK605.no-worker"], lk605
    assert lk605["findings"][0]["caused_by"] == []  # LK603 tested 'echo', which joined: no cause of it here
    assert lk605["summary"].startswith("the app dispatched 'sales-agent' to room 'voice-anon-")
    assert "(the doctor asked it for 'echo'), but no worker is registered as 'sales-agent': the dispatch got no " \
           "job; the workers on this machine register " in lk605["summary"]
    assert f"echo on port {worker.port}" in lk605["summary"]
    assert server.rooms() == []


def test_app_dispatches_nothing(server, newest):
    with AgentWorker("echo", newest, server):
        r = through_the_app(server, "correct", newest)
    lk605 = r["LK605"]
    assert lk605["status"] == "fail" and codes(lk605) == ["LK605.nothing-dispatched"], lk605
    assert lk605["findings"][0]["evidence"][0].startswith("ListDispatch: ")  # the server's record of the room
    assert lk605["summary"].startswith("the app made room 'voice-livekit-doctor-")
    assert lk605["summary"].endswith("but asked for no agent: no dispatch names one, and no worker without agent_name "
                                     "took the room within 2 s")
    assert "agent_name='echo'" in lk605["findings"][0]["fix"]
    assert server.rooms() == []


def test_token_room_config_for_a_room_the_app_created(server, newest):
    r = through_the_app(server, "agent-token-late", newest)
    lk605 = r["LK605"]
    assert lk605["status"] == "fail" and codes(lk605) == ["LK605.room-config-ignored"], lk605
    assert lk605["findings"][0]["evidence"][0] == "token roomConfig.agents: 'echo'"
    assert lk605["summary"].startswith("the app's token asks for 'echo' in roomConfig.agents, but room "
                                       "'voice-livekit-doctor-")
    assert "existed before the first join (the app created it)" in lk605["summary"]
    assert server.rooms() == []


def test_app_without_agent_skips(server, tmp_path):
    with Backend("correct", clean_env(**server.env())) as backend:
        r = doctor(server, tmp_path, Path(sys.executable), "--app-endpoint", backend.url)
    assert r["LK503"]["status"] == "pass"
    assert r["LK605"]["status"] == "skip"
    assert r["LK605"]["summary"].startswith("no voice agent in play: the project does not use livekit-agents and no "
                                            "--agent NAME was given; the app's room 'voice-livekit-doctor-")
    assert r["LK605"]["summary"].endswith("' got no agent dispatch")
