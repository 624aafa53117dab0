"""LK6xx pure logic: the agent facts read from code, the test utterance, the workers' health answers, and what
the checks' evidence means (their finding codes, with the causes they name)."""

from __future__ import annotations

import ast
import asyncio
from pathlib import Path

import pytest

from livekit_doctor.checks import agents
from livekit_doctor.checks.agents import agent_answers, agent_join, agent_names
from livekit_doctor.checks.plumbing.agents import agent_verdicts as av
from livekit_doctor.checks.plumbing.agents.agent_dispatch import NO_JOB, AgentRun
from livekit_doctor.checks.plumbing.agents.agent_code import AgentCode, agent_to_test, scan_project, scan_tree
from livekit_doctor.checks.plumbing.agents.agent_turns import LEFT_WHILE_LISTENING, NO_ANSWER, NO_AUDIO_TRACK
from livekit_doctor.checks.plumbing.agents.agent_workers import LocalWorker, parse_worker
from livekit_doctor.checks.plumbing.media.speech import SAMPLE_RATE, percentile, utterance, utterance_frames
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


def run_check(func, project: Path, env: dict | None = None, memo: dict | None = None, **options):
    ctx = Context(project_dir=project, options=options, env=env or {})
    ctx._memo.update(memo or {})  # a live run the check reads, made up
    return asyncio.run(func.func(ctx))


def test_lk602_name_mismatch_and_no_agent():
    result = run_check(agent_names, FIXTURES / "other_name")
    assert result.status.value == "fail" and [f.code for f in result.findings] == ["name-mismatch"]
    assert result.summary == ("the app dispatches 'sales-agent' (app.py:9) but the worker registers 'support-agent' "
                              "(agent.py:20): no worker takes that job")


def test_lk602_token_config_ignored_when_the_app_creates_the_room(tmp_path):
    (tmp_path / "app.py").write_text(
        "from livekit import api\nasync def s(lk, r):\n    await lk.room.create_room(api.CreateRoomRequest(name=r))\n"
        "    return api.AccessToken().with_room_config(api.RoomConfiguration(agents=[api.RoomAgentDispatch("
        "agent_name='x')]))\n")
    result = run_check(agent_names, tmp_path)
    assert result.status.value == "warn" and [f.code for f in result.findings] == ["room-config-ignored"]
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
    from livekit_doctor.checks.plumbing.agents.app_agent import token_agents

    assert token_agents({"roomConfig": {"agents": [{"agentName": "echo"}, {"agent_name": "b"}, {}]}}) == ["echo", "b", ""]
    assert token_agents({"video": {"roomJoin": True}}) == []
    assert token_agents({"roomConfig": "nonsense"}) == []


def test_what_the_app_asked_for():
    from livekit_doctor.checks.plumbing.agents.app_agent import AppAgentRun

    automatic = {"id": "AD_1", "agent_name": "", "jobs": []}  # the server adds it to every room made without agents
    named = {"id": "AD_2", "agent_name": "echo", "jobs": [{"id": "AJ_1", "status": "JS_RUNNING"}]}
    assert AppAgentRun("r", []).asked() == []
    assert AppAgentRun("r", [], dispatches=[automatic]).asked() == []  # nobody took the automatic dispatch
    taken = {**automatic, "jobs": [{"id": "AJ_0", "status": "JS_RUNNING"}]}
    assert AppAgentRun("r", [], dispatches=[taken]).asked() == [""]
    run = AppAgentRun("r", ["echo"], dispatches=[named, automatic])
    assert run.asked() == ["echo"] and run.jobs() == named["jobs"] and run.ignored_room_config() == []
    assert AppAgentRun("r", ["echo"], dispatches=[automatic]).ignored_room_config() == ["echo"]


def test_lk602_a_named_worker_the_app_never_dispatches(tmp_path):
    (tmp_path / "agent.py").write_text(  # one file: the scan reads only files that mention agents
        "from livekit import api\nfrom livekit.agents import WorkerOptions\n"
        "WorkerOptions(entrypoint_fnc=f, agent_name='echo')\n"
        "async def s(lk, r):\n    await lk.room.create_room(api.CreateRoomRequest(name=r))\n")
    result = run_check(agent_names, tmp_path)
    assert [(f.code, f.severity.value) for f in result.findings] == [("never-dispatched", "warn")]


def test_every_cause_the_agent_checks_name_at_run_time_is_declared():
    declared = {name for chk in agents.CHECKS for name in chk.code_names}
    named = {c for causes in agents.SAME_AGENT.values() for c in causes} | set(agents.AGENT_UNRUNNABLE) | {
        "LK602.name-mismatch", "LK601.pins-unmet", *agents.BUSY_WORKER} - {agents.STARVED}
    assert named <= declared
    assert set(agents.SAME_AGENT) <= {c.name for c in app_agent_checks().codes}


def app_agent_checks():
    return next(c for c in agents.CHECKS if c.id == "LK605")


WORKER = {"port": 28081, "agent_name": "support-agent", "load": 0.0, "active_jobs": 0, "sdk_version": "1.8.9"}
SERVER = {"LIVEKIT_URL": "ws://127.0.0.1:7880", "LIVEKIT_API_KEY": "devkey", "LIVEKIT_API_SECRET": "secret"}


def test_lk603_no_worker_under_a_name_the_app_dispatches_and_the_worker_does_not_register():
    run = AgentRun("doctor-agent-1", "sales-agent", cause=NO_JOB, local_workers=[WORKER],
                   cleanup={"room_deleted": True})
    result = run_check(agent_join, FIXTURES / "other_name", env=SERVER, memo={"agent.run": run}, agent="sales-agent")
    [found] = result.findings
    assert (found.code, found.caused_by) == ("no-worker", ("LK602.name-mismatch",))
    assert found.evidence == ("GET http://127.0.0.1:28081/worker: agent_name 'support-agent', worker_load 0.0, "
                              "active_jobs 0",)
    run = AgentRun("doctor-agent-2", "support-agent", cause=NO_JOB, local_workers=[WORKER],
                   cleanup={"room_deleted": False, "error": "TimeoutError: "})
    result = run_check(agent_join, FIXTURES / "other_name", env=SERVER, memo={"agent.run": run})
    assert [(f.code, f.severity.value, f.caused_by) for f in result.findings] == [
        ("worker-unavailable", "fail", ()), ("room-left", "note", ())]


def test_lk603_a_lost_first_dispatch_warns_and_a_room_left_behind_is_a_note():
    ok = {"room": "doctor-agent-3", "agent_name": "echo", "identity": "agent-AJ_1", "tracks": ["audio 'v'"],
          "ms": {"joined": 300.0, "first_track": 400.0}}
    lost = AgentRun(**ok, first_dispatch_lost=True, local_workers=[{**WORKER, "agent_name": "echo"}],
                    cleanup={"room_deleted": True})
    result = run_check(agent_join, FIXTURES / "echo", env=SERVER, memo={"agent.run": lost})
    assert [f.code for f in result.findings] == ["first-dispatch-lost"] and result.status.value == "warn"
    assert result.findings[0].evidence[0].startswith("GET http://127.0.0.1:28081/worker: agent_name 'echo'")
    kept = AgentRun(**ok, cleanup={"room_deleted": False, "error": "TwirpError: no"})
    result = run_check(agent_join, FIXTURES / "echo", env=SERVER, memo={"agent.run": kept})
    assert result.status.value == "note" and [f.code for f in result.findings] == ["room-left"]
    assert result.summary.endswith("publishes audio 'v'; room left in place")


@pytest.mark.parametrize("answered, cause, problem, expected", [
    ([], LEFT_WHILE_LISTENING, "the agent left the room during turn 1 (it crashed or ended the session)", "agent-left"),
    ([], NO_AUDIO_TRACK, "the agent publishes no audio track the doctor could subscribe to (video 'v')",
     "no-audio-track"),
    ([], NO_ANSWER, "no audio above the energy gate from the agent within 5 s after utterance 1 ended", "no-answer"),
    ([300.0], NO_ANSWER, "no audio above the energy gate from the agent within 5 s after utterance 2 ended",
     "missed-answer"),
    ([2500.0, 2600.0], None, None, "slow"),
    ([250.0, 300.0], None, None, None),
])
def test_lk604_codes(answered, cause, problem, expected):
    run = AgentRun("doctor-agent-4", "echo", latencies_ms=answered, turns=2, answer_cause=cause,
                   answer_problem=problem)
    result = run_check(agent_answers, FIXTURES / "echo", memo={"agent.run": run})
    assert [f.code for f in result.findings] == ([expected] if expected else [])
    if answered and expected:
        assert result.findings[0].evidence == (f"latencies_ms: {', '.join(f'{v:.0f}' for v in answered)}",)


def test_a_dispatch_no_worker_took_is_judged_from_the_workers_health_answers():
    worker = LocalWorker(8081, "echo", 0.81, 1, "1.8.9")
    busy = av.no_job("echo", [worker], "ws://h:7880")
    assert busy.code == "worker-unavailable" and "load 0.81" in busy.summary and "load_threshold" in busy.fix
    assert busy.evidence == ("GET http://127.0.0.1:8081/worker: agent_name 'echo', worker_load 0.81, active_jobs 1",)
    other = av.no_job("sales", [worker], "ws://h:7880")
    assert other.code == "no-worker" and other.summary.endswith("the workers on this machine register echo on port 8081")
    nobody = av.no_job("sales", [], "ws://h:7880")
    assert nobody.code == "no-worker" and nobody.evidence == () and "LIVEKIT_URL=ws://h:7880" in nobody.fix


def test_an_app_room_without_an_agent_is_judged_from_the_servers_record():
    from livekit_doctor.checks.plumbing.agents.app_agent import AppAgentRun

    automatic = {"id": "AD_1", "agent_name": "", "jobs": []}
    unread = AppAgentRun("r", [], read_error="ListDispatch: HTTP 401 unauthenticated: invalid token")
    found = av.nothing_dispatched(unread, "r", "echo", "", 2.0)
    assert found.code == "dispatches-unreadable" and found.evidence == (unread.read_error,)
    ignored = AppAgentRun("r", ["echo"], dispatches=[automatic], dispatches_read=True)
    found = av.nothing_dispatched(ignored, "r", "echo", "", 2.0)
    assert found.code == "room-config-ignored"
    assert found.evidence == ("token roomConfig.agents: 'echo'", "ListDispatch: dispatch AD_1 agent_name '': no job")
    nothing = AppAgentRun("r", [], dispatches=[automatic], dispatches_read=True)
    found = av.nothing_dispatched(nothing, "r", "echo", "", 2.0)
    assert found.code == "nothing-dispatched" and "agent_name='echo'" in found.fix


def test_a_room_left_behind_is_a_note_unless_others_are_in_it():
    assert av.room_left("r", {"room_deleted": True}) == []
    assert av.room_left("r", {"room_deleted": False, "others_in_room": 2}) == []
    [note] = av.room_left("r", {"room_deleted": False, "error": "TimeoutError: late"})
    assert (note.code, note.severity.value, note.is_problem) == ("room-left", "note", False)


def test_import_fix_names_the_missing_module_or_the_pins():
    assert "-m pip install httpx`" in av.import_fix("ModuleNotFoundError: No module named 'httpx'", "py -m pip", False)
    assert av.import_fix("ModuleNotFoundError: No module named 'httpx'", "py -m pip", True).startswith(
        "Its requirements are not met")
