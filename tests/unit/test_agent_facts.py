"""LK6xx pure logic: the agent facts read from code, the test utterance, the workers' health answers."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

from livekit_doctor.checks.agents import agent_names
from livekit_doctor.checks.plumbing.agent_code import AgentCode, agent_to_test, scan_project, scan_tree
from livekit_doctor.checks.plumbing.agent_workers import parse_worker
from livekit_doctor.checks.plumbing.speech import SAMPLE_RATE, percentile, utterance, utterance_frames
from livekit_doctor.plugin import Context

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "agents"


def facts(source: str) -> AgentCode:
    found = AgentCode()
    scan_tree(ast.parse(source), "app.py", found)
    return found


def test_worker_names_literal_constant_env_and_computed():
    code = facts(
        "import os\nfrom livekit.agents import WorkerOptions, AgentServer\nNAME = 'sales'\n"
        "a = WorkerOptions(entrypoint_fnc=f, agent_name=NAME, port=int(os.environ.get('P', '9000')))\n"
        "b = WorkerOptions(entrypoint_fnc=f, agent_name=os.getenv('AGENT', 'support'))\n"
        "c = WorkerOptions(entrypoint_fnc=f)\n"
        "d = WorkerOptions(entrypoint_fnc=f, agent_name=pick())\n"
        "@server.rtc_session(agent_name='survey')\nasync def e(ctx): ...\n")
    assert [(w.how, w.name, w.env, w.port) for w in code.workers] == [
        ("WorkerOptions", "sales", None, 9000), ("WorkerOptions", "support", "AGENT", None),
        ("WorkerOptions", "", None, None), ("WorkerOptions", None, None, None), ("rtc_session", "survey", None, None)]
    assert code.imports_agents == ["app.py"] and code.registered_names() == ["sales", "support", "survey"]


def test_dispatch_kinds():
    code = facts(
        "from livekit import api\n"
        "api.CreateAgentDispatchRequest(agent_name='a', room=r)\n"
        "api.RoomConfiguration(agents=[api.RoomAgentDispatch(agent_name='b')])\n"
        "api.CreateRoomRequest(name=r, agents=[api.RoomAgentDispatch(agent_name='c')])\n"
        "await lk.room.create_room(req)\n")
    assert [(d.how, d.name) for d in code.dispatches] == [
        ("create_dispatch", "a"), ("token roomConfig", "b"), ("CreateRoomRequest", "c")]
    assert [s.line for s in code.room_creations] == [5]


def run_check(func, project: Path, **options):
    return asyncio.run(func.func(Context(project_dir=project, options=options, env={})))


def test_lk602_name_mismatch_and_no_agent():
    result = run_check(agent_names, FIXTURES / "other_name")
    assert result.status.value == "fail"
    assert result.summary == ("the app dispatches 'sales-agent' (app.py:9) but the worker registers 'support-agent' "
                              "(agent.py:20): no worker takes that job")


def test_lk602_token_config_ignored_when_the_app_creates_the_room(tmp_path):
    (tmp_path / "app.py").write_text(
        "from livekit import api\nasync def s(lk, r):\n    await lk.room.create_room(api.CreateRoomRequest(name=r))\n"
        "    return api.AccessToken().with_room_config(api.RoomConfiguration(agents=[api.RoomAgentDispatch("
        "agent_name='x')]))\n")
    result = run_check(agent_names, tmp_path)
    assert result.status.value == "warn"
    assert result.summary.startswith("the token's roomConfig.agents (app.py:4) dispatches only when a join creates "
                                     "the room, but the app creates rooms itself (app.py:3)")


def test_no_agent_in_play_is_a_skip(tmp_path):
    (tmp_path / "app.py").write_text("from livekit import api\n")
    result = run_check(agent_names, tmp_path)
    assert result.status.value == "skip" and result.summary.startswith("no voice agent in play")
    assert agent_to_test(Context(project_dir=tmp_path, options={}, env={}), scan_project(tmp_path)) is None


def test_agent_to_test_order(tmp_path):
    code = facts("WorkerOptions(entrypoint_fnc=f, agent_name=os.environ.get('AGENT_NAME', 'dflt'))\n")
    assert agent_to_test(Context(options={}, env={}), code) == "dflt"
    assert agent_to_test(Context(options={}, env={"AGENT_NAME": "env"}), code) == "env"
    assert agent_to_test(Context(options={"agent": "flag"}, env={"AGENT_NAME": "env"}), code) == "flag"
    assert agent_to_test(Context(options={}, env={}), facts("WorkerOptions(entrypoint_fnc=f)\n")) == ""


def test_utterance_is_voiced_speech_not_a_tone():
    import numpy as np

    samples = utterance().astype(np.float64)
    assert 0.3 < len(samples) / SAMPLE_RATE < 0.35
    spectrum = np.abs(np.fft.rfft(samples))
    freqs = np.fft.rfftfreq(len(samples), 1 / SAMPLE_RATE)
    strong = freqs[spectrum > spectrum.max() / 4]
    assert strong.min() >= 100 and strong.max() <= 3500  # harmonics of the voice under the formants
    assert len(set(np.round(strong / 50))) > 5  # many partials, not one sine
    assert len(utterance_frames()) == 32 and all(len(f) == 960 for f in utterance_frames())


def test_percentile_nearest_rank():
    assert percentile([300.0, 100.0, 200.0], 50) == 200.0
    assert percentile([300.0, 100.0, 200.0], 90) == 300.0
    assert percentile([5.0], 90) == 5.0


def test_worker_health_answers():
    assert parse_worker(8081, '{"worker_type": "JT_ROOM", "agent_name": "echo", "worker_load": 0.5, '
                              '"sdk_version": "1.8.9"}').load == 0.5
    assert parse_worker(8081, '{"agent_name": "", "worker_type": "JT_ROOM", "active_jobs": 2}').active_jobs == 2
    assert parse_worker(8081, "OK") is None
    assert parse_worker(8081, '{"status": "ok"}') is None


def test_token_agents_reads_room_config_as_the_sdks_write_it():
    from livekit_doctor.checks.plumbing.app_agent import token_agents

    assert token_agents({"roomConfig": {"agents": [{"agentName": "echo"}, {"agent_name": "b"}, {}]}}) == ["echo", "b", ""]
    assert token_agents({"video": {"roomJoin": True}}) == []
    assert token_agents({"roomConfig": "nonsense"}) == []


def test_what_the_app_asked_for():
    from livekit_doctor.checks.plumbing.app_agent import AppAgentRun

    automatic = {"id": "AD_1", "agent_name": "", "jobs": []}  # the server adds it to every room made without agents
    named = {"id": "AD_2", "agent_name": "echo", "jobs": [{"id": "AJ_1", "status": "JS_RUNNING"}]}
    assert AppAgentRun("r", []).asked() == []
    assert AppAgentRun("r", [], dispatches=[automatic]).asked() == []  # nobody took the automatic dispatch
    taken = {**automatic, "jobs": [{"id": "AJ_0", "status": "JS_RUNNING"}]}
    assert AppAgentRun("r", [], dispatches=[taken]).asked() == [""]
    run = AppAgentRun("r", ["echo"], dispatches=[named, automatic])
    assert run.asked() == ["echo"] and run.jobs() == named["jobs"] and run.ignored_room_config() == []
    assert AppAgentRun("r", ["echo"], dispatches=[automatic]).ignored_room_config() == ["echo"]
