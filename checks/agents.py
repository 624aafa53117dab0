"""LK601-LK605: the voice agent: its SDK, its name and dispatch, does it join, does it answer, how fast, and
does it join the session the app itself makes (--app-endpoint).

The agent is in play when the project uses livekit-agents or `--agent NAME` is given; otherwise
every check here is skipped with that reason (a setup without agents has nothing to fix).
LK603 runs the whole live session once (dispatch, join, the turns, cleanup); LK604 reads it.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from livekit_doctor.checks.plumbing.agent_code import agent_code, agent_to_test
from livekit_doctor.checks.plumbing.interpreter import PROBE_TIMEOUT
from livekit_doctor.checks.plumbing.options import DEFAULT_AGENT_TURNS, agent_options, python_option
from livekit_doctor.plugin import Context, Location, Result, check, failed, import_off_loop, passed, skipped, warned

NOT_IN_PLAY = ("no voice agent in play: the project does not use livekit-agents and no --agent NAME was given")
SLOW_ANSWER_MS = 2000.0  # median voice-to-voice latency a caller hears as the agent hanging


def _python(ctx: Context) -> str:
    from livekit_doctor.checks.plumbing.interpreter import choose_interpreter

    return choose_interpreter(ctx)[0]


async def agent_probe(ctx: Context) -> dict[str, Any]:
    """livekit.agents and its plugins imported in the app's interpreter, once per run; the answer is kept
    between runs (probe_cache.py: until the interpreter or an installed distribution changes)."""
    from pathlib import Path

    from livekit_doctor.checks.plumbing import probe_cache
    from livekit_doctor.checks.plumbing.interpreter import run_probe

    probe = Path(__file__).resolve().parent / "plumbing" / "agent_probe.py"

    async def run() -> dict[str, Any]:
        python, cache = _python(ctx), ctx.cache_dir
        kept = probe_cache.cached_answer(cache, python, ctx.project_dir, ctx.env, probe) if cache else None
        if kept is not None:
            return kept | {"kept": True}
        try:
            data = await run_probe(python, ctx.project_dir, ctx.env, PROBE_TIMEOUT, probe=probe)
        except RuntimeError as exc:
            return {"probe_exception": str(exc)}
        if cache:
            probe_cache.keep_answer(cache, python, ctx.project_dir, ctx.env, data, probe)
        return data

    return await ctx.amemo("agent.probe", run)


@check("LK601", "Agent SDK in the app's interpreter", area="agent", timeout=PROBE_TIMEOUT + 10)
async def agent_sdk(ctx: Context) -> Result:
    """livekit-agents installed and importable where the app runs, its pins met, its plugins importable."""
    from livekit_doctor.checks.plumbing.sdk_shape import installed_sdk, requirement_problems

    shape, code = await installed_sdk(ctx), await agent_code(ctx)
    if not shape.ok:
        return skipped(f"the app's interpreter could not be inspected (see LK101): {shape.probe_error}")
    version = shape.versions.get("livekit-agents")
    pip = f"{shape.interpreter} -m pip"
    if not version:
        if code.imports_agents:
            return failed(f"the project imports livekit.agents ({code.imports_agents[0]}) but livekit-agents is not "
                          f"installed in {shape.interpreter}", fix=f"`{pip} install livekit-agents`, or point --python "
                          "at the interpreter that runs the agent.", facts={"interpreter": shape.interpreter})
        if ctx.option("agent"):
            return skipped(f"livekit-agents is not installed in {shape.interpreter}: the agent runs elsewhere "
                           "(LK603 tests it through the server)")
        return skipped(NOT_IN_PLAY)
    data = await agent_probe(ctx)
    pins = [p for p in requirement_problems(shape) if p.startswith("livekit-agents ")]
    imported = data.get("agents") or {}
    plugins = data.get("plugins") or {}
    facts = {"interpreter": shape.interpreter, "livekit-agents": version, "import_ms": imported.get("ms"),
             "plugins": {k: v.get("ok") for k, v in plugins.items()}, "problems": pins}
    if data.get("probe_exception") or not imported.get("ok"):
        error = data.get("probe_exception") or imported.get("error")
        missing = error.split("No module named ", 1)[1].strip("'\"").split(".")[0] if "No module named " in str(error) else None
        if pins:
            fix = f"Its requirements are not met: `{pip} install -U livekit-agents` resolves them."
        elif missing:
            fix = (f"It imports `{missing}`, which nothing installed: `{pip} install {missing}` (a dependency it uses but "
                   f"does not declare), or upgrade: `{pip} install -U livekit-agents`.")
        else:
            fix = f"Reinstall or upgrade it: `{pip} install -U livekit-agents`."
        return failed(f"livekit-agents {version} is installed but `import livekit.agents` fails: {error}",
                      details="; ".join(pins), fix=fix, facts=facts)
    broken = {name: p.get("error") for name, p in plugins.items() if not p.get("ok")}
    if pins:
        return failed("; ".join(pins), fix=f"`{pip} install -U livekit-agents` lets pip resolve them together.",
                      facts=facts)
    if broken:
        first = next(iter(broken))
        return failed(f"{len(broken)} plugin{'s' if len(broken) > 1 else ''} do not import: {first}: {broken[first]}",
                      details="\n".join(f"{k}: {v}" for k, v in broken.items()), facts=facts,
                      fix=f"Install a release of each plugin that matches livekit-agents {version}: "
                          f"`{pip} install -U {' '.join('livekit-plugins-' + k.rsplit('.', 1)[1] for k in broken)}`.")
    names = ", ".join(k.rsplit(".", 1)[1] for k in plugins) or "none"
    took = f"{imported.get('ms')} ms" + (", an answer kept from an earlier run" if data.get("kept") else "")
    return passed(f"livekit-agents {version} imports in {shape.interpreter} ({took}); plugins: {names}; "
                  "its livekit/livekit-api requirements are met", facts=facts | {"kept": bool(data.get("kept"))})


def _sites(sites: list[Any]) -> str:
    return ", ".join(f"{s.name!r} ({s.where()})" if s.name is not None else f"a computed name ({s.where()})"
                     for s in sites)


@check("LK602", "Agent name and dispatch mode", area="agent", timeout=30)
async def agent_names(ctx: Context) -> Result:
    """The name the worker registers against the names the app dispatches, and what dispatches it at all."""
    code = await agent_code(ctx)
    if not code.in_play:
        return skipped(NOT_IN_PLAY if not ctx.option("agent") else
                       "the project has no agent code; --agent names a worker that runs elsewhere")
    facts = {"workers": [vars(s) for s in code.workers], "dispatches": [vars(s) for s in code.dispatches]}
    registered = code.registered_names()
    automatic = [w for w in code.workers if w.name == ""]
    locations = tuple(Location(s.path, s.line, 0, f"{s.how} {s.name!r}" if s.name is not None
                               else f"{s.how} (a name computed at run time)") for s in code.workers + code.dispatches)
    if code.workers and code.dispatches and all(w.name is not None for w in code.workers):
        wrong = [d for d in code.dispatches if d.name is not None and d.name not in registered]
        if wrong:
            said = f"the worker registers {_sites(code.workers)}" if registered else \
                f"the worker sets no agent_name ({automatic[0].where()}): it is dispatched automatically only"
            return failed(f"the app dispatches {_sites(wrong)} but {said}: no worker takes that job", facts=facts,
                          locations=locations,
                          fix=f"Use one name on both sides: WorkerOptions(agent_name={wrong[0].name!r}) or dispatch "
                              f"{(registered or [''])[0]!r}.")
    token_dispatch = [d for d in code.dispatches if d.how == "token roomConfig"]
    if token_dispatch and code.room_creations:
        first = code.room_creations[0]
        return warned(f"the token's roomConfig.agents ({token_dispatch[0].where()}) dispatches only when a join "
                      f"creates the room, but the app creates rooms itself ({first.where()}): the server then ignores it",
                      facts=facts, locations=locations,
                      fix="Dispatch with the API once the room exists (agent_dispatch.create_dispatch), or put the "
                          "agent in CreateRoomRequest(agents=[RoomAgentDispatch(agent_name=...)]).")
    if registered and not code.dispatches and code.room_creations:
        return warned(f"the worker registers {_sites([w for w in code.workers if w.name])}, an explicit name, so it is "
                      "never dispatched automatically, and the app's code dispatches no agent", facts=facts,
                      locations=locations,
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
    return passed("; ".join(parts), facts=facts, locations=locations)


def _no_job(name: str, workers: list[Any], url: str) -> tuple[str, str]:
    """(summary, fix) for a dispatch of `name` no worker took, from the workers found on this machine."""
    wanted = f"registered as {name!r}" if name else "registered for automatic dispatch (without agent_name)"
    start = (f"Start the worker with LIVEKIT_URL={url} and this server's key (`python agent.py start`, or `dev`)"
             + (f" and WorkerOptions(agent_name={name!r})" if name else ""))
    same = [w for w in workers if w.agent_name == name]
    if same:
        w = same[0]
        load = f", load {w.load:.2f}" if w.load is not None else ""
        return (f"a worker {wanted} runs on this machine (health port {w.port}{load}) but took no job in the "
                f"dispatch's first seconds: it reports itself unavailable, or it is connected to another server",
                "Its load is at or above its load_threshold (0.7 by default with `start`): free CPU, raise "
                "WorkerOptions(load_threshold=...) or run more workers; and check its LIVEKIT_URL is " + url + ".")
    if workers:
        others = ", ".join(f"{w.agent_name or '(no name: automatic)'!s} on port {w.port}" for w in workers)
        return (f"no worker is {wanted}: the dispatch got no job; the workers on this machine register {others}",
                "Use one agent_name in the worker and in the dispatch (a named worker takes only jobs for its name).")
    return (f"no worker is {wanted}: the dispatch got no job (the server had no worker to give it to)",
            start + "; its log says \"registered worker\" once it is connected.")


def _timings(run: Any) -> str:
    ms = run.ms
    parts = [f"job {ms['job']:.0f} ms" if "job" in ms else None, f"joined {ms['joined']:.0f} ms" if "joined" in ms
             else None, f"first track {ms['first_track']:.0f} ms" if "first_track" in ms else None]
    return ", ".join(p for p in parts if p) + " after the dispatch"


def _turns(ctx: Context) -> int:
    value = ctx.option("agent_turns")
    return DEFAULT_AGENT_TURNS if value is None else int(value)


@check("LK603", "Agent dispatch and join", area="agent", needs=("LK205", "LK405"), after=("LK602",), timeout=120,
       speculative=True)
async def agent_join(ctx: Context) -> Result:
    """Dispatch the agent to a fresh doctor- room, read its job from the server, wait for it to join and publish."""
    from livekit_doctor.checks.plumbing import agent_dispatch as ad
    from livekit_doctor.checks.plumbing.target import target

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
    if run.setup_error:
        return failed(f"the doctor could not prepare its test room: {run.setup_error}", facts=facts,
                      fix="See LK405 (signalling) and LK501 (media) for the cause.")
    if run.cause == ad.NO_JOB:
        from livekit_doctor.checks.plumbing.agent_workers import LocalWorker, local_workers

        workers = [LocalWorker(**w) for w in run.local_workers] or \
            await local_workers(w.port for w in code.workers if w.port)
        facts["local_workers"] = [vars(w) for w in workers]
        summary, fix = _no_job(run.agent_name, workers, target(ctx).ws_base)
        return failed(summary, facts=facts, fix=fix)
    if run.cause == ad.JOB_FAILED:
        return failed(f"the job for {who} failed: {run.detail}", facts=facts,
                      fix=f"Read the worker's log for job {run.job.get('id')} (\"unhandled exception while running "
                          "the job task\"): the entrypoint raised or hangs before ctx.connect(), or raised right after it (an "
                          "agent that leaves at once is never shown to the room).")
    if run.cause == ad.LEFT:
        return failed(f"{who} joined and left: {run.detail}", facts=facts,
                      fix="The entrypoint returned or raised after connecting: keep the job alive while the session "
                          "runs (await session.start(...) and do not return), and read the worker's log.")
    if run.cause == ad.SILENT:
        return failed(f"{who} joined but publishes nothing: {run.detail}", facts=facts,
                      fix="Start the voice session in the entrypoint (AgentSession.start(room=ctx.room)), which "
                          "publishes the agent's audio track; check its TTS and room output options.")
    if not run.cleanup.get("room_deleted"):
        return failed(f"{who} joined, but room {run.room} could not be deleted: {run.cleanup.get('error')}",
                      facts=facts, fix="Check that the key has roomCreate rights (DeleteRoom).")
    summary = (f"{who} dispatched and joined as {run.identity}: {_timings(run)}; publishes "
               f"{', '.join(run.tracks)}; room deleted")
    if run.first_dispatch_lost:
        load = next((w["load"] for w in run.local_workers if w["agent_name"] == name), None)
        return warned("the first dispatch got no job: the worker was at full capacity at that moment"
                      + (f" (load {load:.2f} now)" if load is not None else "") + f"; the second: {summary}",
                      facts=facts, fix="A dispatch that meets a full worker is lost, as the app's would be: keep the "
                      "worker's machine below its load_threshold (0.7 by default with `start`) or run more workers.")
    return passed(summary, facts=facts)


@check("LK604", "Agent answers", area="agent", needs=("LK603",), timeout=30)
async def agent_answers(ctx: Context) -> Result:
    """Voice-to-voice latency: the end of the doctor's utterance to the agent's first audio with energy."""
    from livekit_doctor.checks.plumbing import agent_dispatch as ad
    from livekit_doctor.checks.plumbing.speech import percentile

    turns = _turns(ctx)
    if turns == 0:
        return skipped("--agent-turns 0: the doctor did not talk to the agent")
    run = await ad.agent_run(ctx, agent_to_test(ctx, await agent_code(ctx)) or "", turns)  # LK603's run
    lat = run.latencies_ms
    facts: dict[str, Any] = {"turns": run.turns, "latencies_ms": lat}
    if lat:
        facts |= {"p50_ms": percentile(lat, 50), "p90_ms": percentile(lat, 90), "min_ms": min(lat), "max_ms": max(lat)}
    if run.answer_problem and "left the room" in run.answer_problem:
        return failed(run.answer_problem, facts=facts,
                      fix="Read the worker's log: the job ended while it was listening (an exception in its audio "
                          "pipeline, or the session closed).")
    if not lat:
        return warned(f"the agent did not answer: {run.answer_problem}", facts=facts,
                      fix="The doctor says a synthetic, speech-like utterance (docs/agents.md). An agent that answers "
                          "only recognised words (STT, then LLM) stays silent for it; one whose VAD or audio input is "
                          "broken stays silent for everyone: say something to it in a real client to tell them apart.")
    summary = (f"voice-to-voice latency p50 {facts['p50_ms']:.0f} ms, p90 {facts['p90_ms']:.0f} ms over "
               f"{len(lat)} turn{'s' if len(lat) > 1 else ''} (min {min(lat):.0f}, max {max(lat):.0f})")
    if run.answer_problem:
        return warned(f"{summary}; then {run.answer_problem}", facts=facts,
                      fix="An answer went missing: read the worker's log for that turn.")
    if facts["p50_ms"] > SLOW_ANSWER_MS:
        return warned(f"{summary}: callers hear the agent hang", facts=facts,
                      fix="See docs/agents.md for where the time goes (endpointing delay, STT, LLM first token, TTS "
                          "first audio) and how to measure each.")
    return passed(summary, facts=facts)


@check("LK605", "Agent joins the app's room", area="agent", needs=("LK503",), after=("LK602",), timeout=40)
async def app_agent_joins(ctx: Context) -> Result:
    """The agent the app's endpoint asked for joins the room it made (the session a caller gets)."""
    import json

    from livekit_doctor.checks.plumbing import app_agent as aa
    from livekit_doctor.checks.plumbing.app_endpoint import (PLACEHOLDER_AGENT, ROOM_FIELDS, TOKEN_FIELDS, URL_FIELDS,
                                                            call_endpoint, find_field)
    from livekit_doctor.checks.plumbing.settings import livekit_settings
    from livekit_doctor.checks.plumbing.tokens import inspect_token

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
    if run.setup_error:
        return failed(f"the doctor could not join the app's room {room!r} with the app's token: {run.setup_error}",
                      facts=facts, fix="See LK503, which joined with the same token.")
    if expected is None and (run.cause == aa.NOTHING or asked == [PLACEHOLDER_AGENT]):
        return skipped(f"{NOT_IN_PLAY}; the app's room {room!r} got "
                       + ("no agent dispatch" if run.cause == aa.NOTHING else
                          f"a dispatch of {PLACEHOLDER_AGENT!r}, the placeholder agent_id the doctor sent"))
    left = "" if run.cleanup.get("room_deleted") else (
        f"; room left in place ({run.cleanup['others_in_room']} other participant(s) in it)"
        if run.cleanup.get("others_in_room") else f"; the room could not be deleted: {run.cleanup.get('error')}")
    if run.cause == aa.NOTHING:
        if run.ignored_room_config():
            return failed(f"the app's token asks for {', '.join(map(repr, run.token_agents))} in roomConfig.agents, "
                          f"but room {room!r} existed before the first join (the app created it): the server acts on "
                          f"roomConfig only when a join creates the room, so no agent was dispatched{left}",
                          facts=facts,
                          fix="Dispatch with the API once the room exists (agent_dispatch.create_dispatch), or put "
                              "the agent in CreateRoomRequest(agents=[RoomAgentDispatch(agent_name=...)]); or do not "
                              "create the room and let the token's join create it.")
        return failed(f"the app made room {room!r} but asked for no agent: no dispatch names one, and no worker "
                      f"without agent_name took the room within {aa.DISPATCH_WAIT:g} s{left}", facts=facts,
                      fix=f"Dispatch the agent for each session, after creating the room: await lkapi.agent_dispatch."
                          f"create_dispatch(api.CreateAgentDispatchRequest(agent_name={expected or 'AGENT_NAME'!r}, "
                          "room=room_name)) (or the token's roomConfig.agents when the join creates the room).")
    if run.cause == aa.NO_JOB:
        from livekit_doctor.checks.plumbing.agent_workers import local_workers
        from livekit_doctor.checks.plumbing.target import target

        workers = await local_workers(w.port for w in code.workers if w.port)
        facts["local_workers"] = [vars(w) for w in workers]
        summary, fix = _no_job(asked[0], workers, target(ctx).ws_base)
        mismatch = f" (the doctor asked it for {expected!r})" if expected and expected not in asked else ""
        return failed(f"the app dispatched {names} to room {room!r}{mismatch}, but {summary}{left}", facts=facts,
                      fix=fix)
    if run.cause == aa.JOB_FAILED:
        return failed(f"the app dispatched {names} to room {room!r}; the job failed: {run.detail}{left}", facts=facts,
                      fix="Read the worker's log for that job: the entrypoint raised or hangs before ctx.connect().")
    how = "its token's roomConfig.agents" if run.token_agents and not run.ignored_room_config() else \
        "the API" if run.named() else "the server's automatic dispatch (a worker without agent_name)"
    when = f"in the room {run.in_room_ms:.0f} ms after the app answered"
    return passed(f"the app's room {room!r}: {run.agent_name or run.identity!r} (dispatched by {how}) joined as "
                  f"{run.identity}, {when}" + ("; room deleted" if run.cleanup.get("room_deleted") else left),
                  facts=facts)


CHECKS = [agent_sdk, agent_names, agent_join, agent_answers, app_agent_joins]
OPTIONS = [*agent_options(), python_option()]
