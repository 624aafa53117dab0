"""LK601-LK605: the voice agent: its SDK, its name and dispatch, does it join, does it answer, how fast, and
does it join the session the app itself makes (--app-endpoint).

The agent is in play when the project uses livekit-agents or `--agent NAME` is given; otherwise
every check here is skipped with that reason (a setup without agents has nothing to fix).
LK603 runs the whole live session once (dispatch, join, the turns, cleanup); LK604 reads it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.agents import agent_verdicts as av
from livekit_doctor.checks.plumbing.agents.agent_code import agent_code, agent_to_test
from livekit_doctor.checks.plumbing.agents.agent_import import agent_probe
from livekit_doctor.checks.plumbing.agents.agent_workers import LocalWorker
from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE_TIMEOUT
from livekit_doctor.checks.plumbing.config.options import agent_options, wing_options
from livekit_doctor.checks.plumbing.sdk.interpreter import python_option
from livekit_doctor.plugin import (Context, Location, Result, Severity, check, code, failed, finding,
                                   import_off_loop, judged, passed, skipped, warned)

NOT_IN_PLAY = ("no voice agent in play: the project does not use livekit-agents and no --agent NAME was given")
SLOW_ANSWER_MS = 2000.0  # median voice-to-voice latency a caller hears as the agent hanging
STARVED = "LK002.cpu-starved"  # what runs here waits for a CPU: a worker's CPU load reaches its load_threshold
# no worker can start in the app's interpreter: none registers, whatever its name
AGENT_UNRUNNABLE = ("LK601.not-installed", "LK601.import-fails", "LK601.plugin-import-fails")


@check("LK601", "Agent SDK in the app's interpreter", area=Area.AGENT, timeout=PROBE_TIMEOUT + 10, codes=(
    code("not-installed", "the project imports livekit.agents but livekit-agents is not installed in the app's "
                          "interpreter"),
    code("import-fails", "livekit-agents is installed but `import livekit.agents` fails in the app's interpreter "
                         "(caused by pins-unmet when its requirements are not met)"),
    code("pins-unmet", "what is installed does not meet livekit-agents' own requirements on livekit, livekit-api "
                       "and livekit-protocol"),
    code("plugin-import-fails", "an installed livekit.plugins.* module does not import next to livekit.agents"),
    code("probe-timeout", "the doctor's import probe did not finish in time in the app's interpreter",
         explained_by=(STARVED,)),
))
async def agent_sdk(ctx: Context) -> Result:
    """livekit-agents installed and importable where the app runs, its pins met, its plugins importable."""
    from livekit_doctor.checks.plumbing.sdk.sdk_shape import installed_sdk, requirement_problems

    shape, code = await installed_sdk(ctx), await agent_code(ctx)
    if not shape.ok:
        return skipped(f"the app's interpreter could not be inspected (see LK101): {shape.probe_error}")
    version = shape.versions.get("livekit-agents")
    pip = f"{shape.interpreter} -m pip"
    if not version:
        if code.imports_agents:
            return failed(f"the project imports livekit.agents ({code.imports_agents[0]}) but livekit-agents is not "
                          f"installed in {shape.interpreter}", code="not-installed",
                          fix=f"`{pip} install livekit-agents`, or point --python at the interpreter that runs the "
                              "agent.", locations=[Location(code.imports_agents[0], 0, 0, "imports livekit.agents")],
                          facts={"interpreter": shape.interpreter})
        if wing_options(ctx).agent:
            return skipped(f"livekit-agents is not installed in {shape.interpreter}: the agent runs elsewhere "
                           "(LK603 tests it through the server)")
        return skipped(NOT_IN_PLAY)
    data = await agent_probe(ctx)
    pins = [p for p in requirement_problems(shape) if p.startswith("livekit-agents ")]
    imported = data.get("agents") or {}
    plugins = data.get("plugins") or {}
    facts = {"interpreter": shape.interpreter, "livekit-agents": version, "import_ms": imported.get("ms"),
             "plugins": {k: v.get("ok") for k, v in plugins.items()}, "problems": pins}
    unmet = [finding("pins-unmet", Severity.FAIL, "; ".join(pins), evidence=pins,
                     fix=f"`{pip} install -U livekit-agents` lets pip resolve them together.")] if pins else []
    error = data.get("probe_exception") or imported.get("error")
    if error and "did not finish within" in error:
        return failed(f"importing livekit-agents {version} could not be judged: {error}",
                      code="probe-timeout", facts=facts,
                      fix="Run the doctor again on a less busy machine; if it persists, time `python -c \"import "
                          "livekit.agents\"` in that interpreter (a slow disk, or a plugin that works at import).")
    if error or not imported.get("ok"):
        fix = av.import_fix(str(error), pip, bool(pins))
        broken_import = finding("import-fails", Severity.FAIL,
                                f"livekit-agents {version} is installed but `import livekit.agents` fails: {error}",
                                fix=fix, evidence=[str(error)], caused_by=["LK601.pins-unmet"] if pins else [])
        return judged([broken_import, *unmet], facts=facts)
    broken = {name: p.get("error") for name, p in plugins.items() if not p.get("ok")}
    if broken:
        first = next(iter(broken))
        unmet.append(finding(
            "plugin-import-fails", Severity.FAIL,
            f"{len(broken)} plugin{'s' if len(broken) > 1 else ''} do not import: {first}: {broken[first]}",
            evidence=[f"{k}: {v}" for k, v in broken.items()],
            fix=f"Install a release of each plugin that matches livekit-agents {version}: "
                f"`{pip} install -U {' '.join('livekit-plugins-' + k.rsplit('.', 1)[1] for k in broken)}`."))
    if unmet:
        return judged(unmet, facts=facts)
    names = ", ".join(k.rsplit(".", 1)[1] for k in plugins) or "none"
    took = f"{imported.get('ms')} ms" + (", an answer kept from an earlier run" if data.get("kept") else "")
    return passed(f"livekit-agents {version} imports in {shape.interpreter} ({took}); plugins: {names}; "
                  "its livekit/livekit-api requirements are met", facts=facts | {"kept": bool(data.get("kept"))})


def _sites(sites: list[Any]) -> str:
    return ", ".join(f"{s.name!r} ({s.where()})" if s.name is not None else f"a computed name ({s.where()})"
                     for s in sites)


@check("LK602", "Agent name and dispatch mode", area=Area.AGENT, timeout=30, codes=(
    code("name-mismatch", "the app's code dispatches a name the worker's code does not register: no worker takes "
                          "that job"),
    code("room-config-ignored", "the token's roomConfig.agents dispatches only when a join creates the room, and the "
                                "app creates its rooms itself"),
    code("never-dispatched", "the worker registers an explicit agent_name (no automatic dispatch) and the app's code "
                             "dispatches no agent"),
))
async def agent_names(ctx: Context) -> Result:
    """The name the worker registers against the names the app dispatches, and what dispatches it at all."""
    code = await agent_code(ctx)
    if not code.in_play:
        return skipped(NOT_IN_PLAY if not wing_options(ctx).agent else
                       "the project has no agent code; --agent names a worker that runs elsewhere")
    facts = {"workers": [vars(s) for s in code.workers], "dispatches": [vars(s) for s in code.dispatches]}
    registered = code.registered_names()
    automatic = [w for w in code.workers if w.name == ""]
    locations = tuple(Location(s.path, s.line, 0, f"{s.how} {s.name!r}" if s.name is not None
                               else f"{s.how} (a name computed at run time)") for s in code.workers + code.dispatches)
    wrong = av.misdispatched(code)
    if wrong:
        said = f"the worker registers {_sites(code.workers)}" if registered else \
            f"the worker sets no agent_name ({automatic[0].where()}): it is dispatched automatically only"
        return failed(f"the app dispatches {_sites(wrong)} but {said}: no worker takes that job", code="name-mismatch",
                      facts=facts, locations=locations,
                      fix=f"Use one name on both sides: WorkerOptions(agent_name={wrong[0].name!r}) or dispatch "
                          f"{(registered or [''])[0]!r}.")
    token_dispatch = [d for d in code.dispatches if d.how == "token roomConfig"]
    if token_dispatch and code.room_creations:
        first = code.room_creations[0]
        return warned(f"the token's roomConfig.agents ({token_dispatch[0].where()}) dispatches only when a join "
                      f"creates the room, but the app creates rooms itself ({first.where()}): the server then ignores it",
                      code="room-config-ignored", facts=facts, locations=locations,
                      fix="Dispatch with the API once the room exists (agent_dispatch.create_dispatch), or put the "
                          "agent in CreateRoomRequest(agents=[RoomAgentDispatch(agent_name=...)]).")
    if registered and not code.dispatches and code.room_creations:
        return warned(f"the worker registers {_sites([w for w in code.workers if w.name])}, an explicit name, so it is "
                      "never dispatched automatically, and the app's code dispatches no agent", code="never-dispatched",
                      facts=facts, locations=locations,
                      fix=f"Dispatch it for each session: agent_dispatch.create_dispatch(CreateAgentDispatchRequest("
                          f"agent_name={registered[0]!r}, room=...)) or the token's roomConfig.agents; or drop "
                          "agent_name for automatic dispatch into every new room.")
    parts = []
    if code.workers:
        parts.append(f"worker registers {_sites(code.workers)}" + (
            " (explicit dispatch only)" if registered else " (no agent_name: automatic dispatch into every new room)"))
    if code.dispatches:
        parts.append(f"the app dispatches {_sites(code.dispatches)} by {', '.join(sorted({d.how for d in code.dispatches}))}")
    if not parts:
        return passed(f"the project imports livekit.agents ({code.imports_agents[0]}); no worker or dispatch in its code",
                      facts=facts)
    return passed("; ".join(parts), facts=facts)


def _turns(ctx: Context) -> int:
    return wing_options(ctx).agent_turns


@check("LK603", "Agent dispatch and join", area=Area.AGENT, needs=("LK205", "LK405"), after=("LK602",), timeout=120,
       speculative=True, codes=(
    code("setup-failed", "the doctor could not create its test room, join it or dispatch the agent"),
    code("no-worker", "no worker registered under the agent's name took the dispatch: none is connected to this "
                      "server (caused by LK602.name-mismatch when the name is one the app dispatches and the worker "
                      "does not register)", explained_by=AGENT_UNRUNNABLE),
    code("worker-unavailable", "a worker of that name runs on this machine but took no job: it reports itself full "
                               "(load at or above load_threshold), or it is connected to another server",
         explained_by=(STARVED,)),
    code("job-failed", "a worker accepted the job but its agent never joined (the entrypoint raised or hangs before "
                       "connecting), or the server reports the job failed"),
    code("left", "the agent joined and left at once (the entrypoint returned or raised after connecting)"),
    code("silent", "the agent joined but published no track"),
    code("first-dispatch-lost", "the first dispatch met a full worker and was lost; the second was taken",
         explained_by=(STARVED,)),
    code("room-left", "the doctor could not delete its test room (hygiene: the server closes it once empty)"),
))
async def agent_join(ctx: Context) -> Result:
    """Dispatch the agent to a fresh doctor- room, read its job from the server, wait for it to join and publish."""
    from livekit_doctor.checks.plumbing.agents import agent_dispatch as ad
    from livekit_doctor.checks.plumbing.config.target import target

    code = await agent_code(ctx)
    name = agent_to_test(ctx, code)
    if name is None:
        return skipped(NOT_IN_PLAY)
    try:
        await import_off_loop("livekit.api")  # the rtc SDK is imported while the room is made and the agent comes
    except ImportError:
        return skipped("the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]'")
    if importlib.util.find_spec("livekit.rtc") is None:
        return skipped("the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]'")
    run = await ad.agent_run(ctx, name, _turns(ctx), tuple(w.port for w in code.workers if w.port))
    who = repr(name) if name else "the automatic-dispatch agent"
    facts = {"agent_name": name, "room": run.room, "job": run.job, "identity": run.identity, "tracks": run.tracks,
             **{f"{k}_ms": v for k, v in run.ms.items()}, **run.cleanup}
    notes = av.room_left(run.room, run.cleanup)
    job = av.job_said(run.job)
    if run.setup_error:
        return judged([finding("setup-failed", Severity.FAIL, f"the doctor could not prepare its test room: "
                               f"{run.setup_error}", evidence=[run.setup_error],
                               fix="See LK405 (signalling) and LK501 (media) for the cause."), *notes], facts=facts)
    if run.cause == ad.NO_JOB:
        from livekit_doctor.checks.plumbing.agents.agent_workers import local_workers

        workers = [LocalWorker(**w) for w in run.local_workers] or \
            await local_workers(w.port for w in code.workers if w.port)
        facts["local_workers"] = [vars(w) for w in workers]
        no_job = av.no_job(run.agent_name, workers, target(ctx).ws_base)
        wrong = no_job.code == "no-worker" and run.agent_name in {d.name for d in av.misdispatched(code)}
        return judged([finding(no_job.code, Severity.FAIL, no_job.summary, fix=no_job.fix, evidence=no_job.evidence,
                               caused_by=["LK602.name-mismatch"] if wrong else []), *notes], facts=facts)
    if run.cause == ad.JOB_FAILED:
        main = finding("job-failed", Severity.FAIL, f"the job for {who} failed: {run.detail}", evidence=job,
                       fix=f"Read the worker's log for job {run.job.get('id')} (\"unhandled exception while running "
                           "the job task\"): the entrypoint raised or hangs before ctx.connect(), or raised right "
                           "after it (an agent that leaves at once is never shown to the room).")
    elif run.cause == ad.LEFT:
        main = finding("left", Severity.FAIL, f"{who} joined and left: {run.detail}", evidence=job,
                       fix="The entrypoint returned or raised after connecting: keep the job alive while the session "
                           "runs (await session.start(...) and do not return), and read the worker's log.")
    elif run.cause == ad.SILENT:
        main = finding("silent", Severity.FAIL, f"{who} joined but publishes nothing: {run.detail}", evidence=job,
                       fix="Start the voice session in the entrypoint (AgentSession.start(room=ctx.room)), which "
                           "publishes the agent's audio track; check its TTS and room output options.")
    else:
        summary = (f"{who} dispatched and joined as {run.identity}: {av.timings(run)}; publishes "
                   f"{', '.join(run.tracks)}; " + ("room left in place" if notes else "room deleted"))
        if run.first_dispatch_lost:
            load = next((w["load"] for w in run.local_workers if w["agent_name"] == name), None)
            notes.insert(0, finding(
                "first-dispatch-lost", Severity.WARN, "the first dispatch got no job: the worker was at full capacity "
                "at that moment" + (f" (load {load:.2f} now)" if load is not None else "") + f"; the second: {summary}",
                evidence=[av.worker_said(LocalWorker(**w)) for w in run.local_workers if w["agent_name"] == name],
                fix="A dispatch that meets a full worker is lost, as the app's would be: keep the worker's machine "
                    "below its load_threshold (0.7 by default with `start`) or run more workers."))
        return judged(notes, summary, facts=facts)
    return judged([main, *notes], facts=facts)


BUSY_WORKER = ("LK603.first-dispatch-lost", STARVED)  # the worker was at its load threshold, the machine busy


@check("LK604", "Agent answers", area=Area.AGENT, needs=("LK603",), timeout=30, codes=(
    code("agent-left", "the agent left the room while the doctor talked to it (its job ended: a crash in its audio "
                       "pipeline, or the session closed)"),
    code("no-audio-track", "the agent publishes no audio track the doctor can subscribe to"),
    code("no-answer", "the agent did not answer the doctor's speech-like utterance at all"),
    code("missed-answer", "the agent answered, then a later turn got no answer", explained_by=BUSY_WORKER),
    code("slow", f"the median voice-to-voice latency is above {SLOW_ANSWER_MS / 1000:g} s: callers hear the agent "
                 "hang", explained_by=BUSY_WORKER),
))
async def agent_answers(ctx: Context) -> Result:
    """Voice-to-voice latency: the end of the doctor's utterance to the agent's first audio with energy."""
    from livekit_doctor.checks.plumbing.agents import agent_dispatch as ad
    from livekit_doctor.checks.plumbing.agents import agent_turns as at
    from livekit_doctor.checks.plumbing.media.speech import percentile

    turns = _turns(ctx)
    if turns == 0:
        return skipped("--agent-turns 0: the doctor did not talk to the agent")
    run = await ad.agent_run(ctx, agent_to_test(ctx, await agent_code(ctx)) or "", turns)  # LK603's run
    lat = run.latencies_ms
    facts: dict[str, Any] = {"turns": run.turns, "latencies_ms": lat}
    measured = [f"latencies_ms: {', '.join(f'{v:.0f}' for v in lat)}"] if lat else []
    if lat:
        facts |= {"p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90), "min_ms": min(lat), "max_ms": max(lat)}
    if run.answer_cause == at.LEFT_WHILE_LISTENING:
        return failed(run.answer_problem or "the agent left the room", code="agent-left", facts=facts,
                      evidence=measured,
                      fix="Read the worker's log: the job ended while it was listening (an exception in its audio "
                          "pipeline, or the session closed).")
    if run.answer_cause == at.NO_AUDIO_TRACK:
        return warned(f"the agent did not answer: {run.answer_problem}", code="no-audio-track", facts=facts,
                      fix="Publish the agent's voice as an audio track: start the AgentSession with audio output "
                          "enabled (room output options) and a TTS, or read the worker's log for why it has none.")
    if not lat:
        return warned(f"the agent did not answer: {run.answer_problem}", code="no-answer", facts=facts,
                      fix="The doctor says a synthetic, speech-like utterance (docs/agents.md). An agent that answers "
                          "only recognised words (STT, then LLM) stays silent for it; one whose VAD or audio input is "
                          "broken stays silent for everyone: say something to it in a real client to tell them apart.")
    summary = (f"voice-to-voice latency p50 {facts['p50_ms']:.0f} ms, p90 {facts['p90_ms']:.0f} ms over "
               f"{len(lat)} turn{'s' if len(lat) > 1 else ''} (min {min(lat):.0f}, max {max(lat):.0f})")
    if run.answer_problem:
        return warned(f"{summary}; then {run.answer_problem}", code="missed-answer", facts=facts, evidence=measured,
                      fix="An answer went missing: read the worker's log for that turn.")
    if facts["p50_ms"] > SLOW_ANSWER_MS:
        return warned(f"{summary}: callers hear the agent hang", code="slow", facts=facts, evidence=measured,
                      fix="See docs/agents.md for where the time goes (endpointing delay, STT, LLM first token, TTS "
                          "first audio) and how to measure each.")
    return passed(summary, facts=facts)


# Causes a finding of LK605 names at run time, only when the app asked for the same agent LK603 tested.
SAME_AGENT = {"no-worker": ("LK603.no-worker",),
              "worker-unavailable": ("LK603.worker-unavailable", "LK603.first-dispatch-lost"),
              "job-failed": ("LK603.job-failed", "LK603.left")}


@check("LK605", "Agent joins the app's room", area=Area.AGENT, needs=("LK503",), after=("LK602",), timeout=40, codes=(
    code("setup-failed", "the doctor could not join the app's room with the app's token"),
    code("dispatches-unreadable", "the server did not list the room's dispatches to the doctor, so what the app "
                                  "asked for cannot be known",
         explained_by=("LK205.wrong-secret", "LK205.unknown-key")),
    code("room-config-ignored", "the app's token asks for an agent in roomConfig.agents, but the app created the "
                                "room before the first join, so the server never acted on it",
         explained_by=("LK602.room-config-ignored",)),
    code("nothing-dispatched", "the app made its room but asked for no agent, and no automatic worker took it",
         explained_by=("LK602.never-dispatched",)),
    code("no-worker", "the app dispatched a name no worker connected to this server registers (caused by "
                      "LK603.no-worker for the same name, and by LK602.name-mismatch for a name the app's code "
                      "dispatches)", explained_by=AGENT_UNRUNNABLE),
    code("worker-unavailable", "a worker of the name the app dispatched runs on this machine but took no job (full, "
                               "or connected to another server); caused by LK603's findings of the same kind for "
                               "the same name", explained_by=(STARVED,)),
    code("job-failed", "a worker accepted the app's job but its agent did not join, or the server reports the job "
                       "failed (caused by LK603.job-failed or LK603.left for the same name)"),
    code("room-left", "the doctor could not delete the app's room after it (hygiene: the server closes it once empty)"),
))
async def app_agent_joins(ctx: Context) -> Result:
    """The agent the app's endpoint asked for joins the room it made (the session a caller gets)."""
    import json

    from livekit_doctor.checks.plumbing.agents import app_agent as aa
    from livekit_doctor.checks.plumbing.app.app_endpoint import (PLACEHOLDER_AGENT, ROOM_FIELDS, TOKEN_FIELDS, URL_FIELDS,
                                                            call_endpoint, find_field)
    from livekit_doctor.checks.plumbing.config.settings import livekit_settings
    from livekit_doctor.checks.plumbing.server.tokens import inspect_token

    try:
        await import_off_loop("livekit.api", "livekit.rtc")
    except ImportError:
        return skipped("the livekit rtc SDK is not installed: pip install 'livekit-doctor[rtc]'")
    answer = await call_endpoint(ctx)  # LK502's answer: a token LK503 joined with
    data = json.loads(answer["text"])
    token = find_field(data, TOKEN_FIELDS) or ""
    claims = inspect_token(token).claims
    room = find_field(data, ROOM_FIELDS) or str((claims.get("video") or {}).get("room") or "")
    url = find_field(data, URL_FIELDS) or livekit_settings(ctx).url or ""
    code = await agent_code(ctx)
    expected = agent_to_test(ctx, code)
    run = await aa.watch_app_room(ctx, url, token, room, claims, answer["answered_at"],
                                  aa.DISPATCH_WAIT if expected is not None else 0.0)
    asked = run.asked()
    facts = {"room": room, "asked_for": asked, "token_agents": run.token_agents,
             "dispatches": run.dispatches, "identity": run.identity, "agent_name": run.agent_name,
             "in_room_ms": run.in_room_ms, "agent_id_sent": answer["sent"].get("agent_id"), **run.cleanup}
    names = ", ".join(repr(n) if n else "automatic dispatch" for n in asked)
    notes = av.room_left(repr(room), run.cleanup)
    if run.setup_error:
        return judged([finding("setup-failed", Severity.FAIL, f"the doctor could not join the app's room {room!r} with "
                               f"the app's token: {run.setup_error}", evidence=[run.setup_error],
                               fix="See LK503, which joined with the same token."), *notes], facts=facts)
    if expected is None and (run.cause == aa.NOTHING or asked == [PLACEHOLDER_AGENT]):
        return skipped(f"{NOT_IN_PLAY}; the app's room {room!r} got "
                       + ("no agent dispatch" if run.cause == aa.NOTHING else
                          f"a dispatch of {PLACEHOLDER_AGENT!r}, the placeholder agent_id the doctor sent"))
    left = f"; room left in place ({run.cleanup['others_in_room']} other participant(s) in it)" \
        if run.cleanup.get("others_in_room") else ""
    said = av.dispatches_said(run.dispatches)
    same_agent = expected is not None and expected in asked
    if run.cause == aa.NOTHING:
        main = av.nothing_dispatched(run, room, expected, left, aa.DISPATCH_WAIT)
    elif run.cause == aa.NO_JOB:
        from livekit_doctor.checks.plumbing.agents.agent_workers import local_workers
        from livekit_doctor.checks.plumbing.config.target import target

        workers = await local_workers(w.port for w in code.workers if w.port)
        facts["local_workers"] = [vars(w) for w in workers]
        no_job = av.no_job(asked[0], workers, target(ctx).ws_base)
        mismatch = f" (the doctor asked it for {expected!r})" if expected and expected not in asked else ""
        causes = SAME_AGENT[no_job.code] if asked[0] == expected else ()
        if no_job.code == "no-worker" and asked[0] in {d.name for d in av.misdispatched(code)}:
            causes += ("LK602.name-mismatch",)
        main = finding(no_job.code, Severity.FAIL,
                       f"the app dispatched {names} to room {room!r}{mismatch}, but {no_job.summary}{left}",
                       fix=no_job.fix, evidence=[*said, *no_job.evidence], caused_by=causes)
    elif run.cause == aa.JOB_FAILED:
        main = finding("job-failed", Severity.FAIL,
                       f"the app dispatched {names} to room {room!r}; the job failed: {run.detail}{left}",
                       evidence=said, caused_by=SAME_AGENT["job-failed"] if same_agent else (),
                       fix="Read the worker's log for that job: the entrypoint raised or hangs before ctx.connect().")
    else:
        how = "its token's roomConfig.agents" if run.token_agents and not run.ignored_room_config() else \
            "the API" if run.named() else "the server's automatic dispatch (a worker without agent_name)"
        when = f"in the room {run.in_room_ms:.0f} ms after the app answered"
        kept = "; room deleted" if run.cleanup.get("room_deleted") else (left or "; room left in place")
        return judged(notes, f"the app's room {room!r}: {run.agent_name or run.identity!r} (dispatched by {how}) "
                             f"joined as {run.identity}, {when}{kept}", facts=facts)
    return judged([main, *notes], facts=facts)


CHECKS = [agent_sdk, agent_names, agent_join, agent_answers, app_agent_joins]
OPTIONS = [*agent_options(), python_option()]
