"""What the agent checks' evidence means, in words and findings: a dispatch no worker took (judged from the
workers' own health answers), the server's record of jobs and dispatches quoted as it says it, and the note for a
room the doctor could not delete. Pure: the collectors are agent_dispatch.py, app_agent.py and agent_workers.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livekit_doctor.plugin import Finding, Severity, finding


def misdispatched(code: Any) -> list[Any]:
    """The app's dispatches of a name no worker in the code registers (when every worker's name is known)."""
    if not (code.workers and code.dispatches and all(w.name is not None for w in code.workers)):
        return []
    registered = code.registered_names()
    return [d for d in code.dispatches if d.name is not None and d.name not in registered]


@dataclass(frozen=True)
class NoJob:
    """What a dispatch no worker took means, from the workers found on this machine."""

    code: str  # "no-worker" or "worker-unavailable"
    summary: str
    fix: str
    evidence: tuple[str, ...]


def worker_said(w: Any) -> str:
    """A local worker's health answer, in its own terms."""
    said = [f"agent_name {w.agent_name!r}"] + [f"{k} {v}" for k, v in (("worker_load", w.load),
                                                                      ("active_jobs", w.active_jobs)) if v is not None]
    return f"GET http://127.0.0.1:{w.port}/worker: {', '.join(said)}"


def no_job(name: str, workers: list[Any], url: str) -> NoJob:
    """A dispatch of `name` no worker took, judged from the workers found on this machine."""
    wanted = f"registered as {name!r}" if name else "registered for automatic dispatch (without agent_name)"
    start = (f"Start the worker with LIVEKIT_URL={url} and this server's key (`python agent.py start`, or `dev`)"
             + (f" and WorkerOptions(agent_name={name!r})" if name else ""))
    evidence = tuple(worker_said(w) for w in workers)
    same = [w for w in workers if w.agent_name == name]
    if same:
        w = same[0]
        load = f", load {w.load:.2f}" if w.load is not None else ""
        return NoJob("worker-unavailable",
                     f"a worker {wanted} runs on this machine (health port {w.port}{load}) but took no job in the "
                     f"dispatch's first seconds: it reports itself unavailable, or it is connected to another server",
                     "Its load is at or above its load_threshold (0.7 by default with `start`): free CPU, raise "
                     "WorkerOptions(load_threshold=...) or run more workers; and check its LIVEKIT_URL is " + url + ".",
                     evidence)
    if workers:
        others = ", ".join(f"{w.agent_name or '(no name: automatic)'!s} on port {w.port}" for w in workers)
        return NoJob("no-worker", f"no worker is {wanted}: the dispatch got no job; the workers on this machine "
                                  f"register {others}",
                     "Use one agent_name in the worker and in the dispatch (a named worker takes only jobs for its "
                     "name).", evidence)
    return NoJob("no-worker",
                 f"no worker is {wanted}: the dispatch got no job (the server had no worker to give it to)",
                 start + "; its log says \"registered worker\" once it is connected.", evidence)


def timings(run: Any) -> str:
    ms = run.ms
    parts = [f"job {ms['job']:.0f} ms" if "job" in ms else None, f"joined {ms['joined']:.0f} ms" if "joined" in ms
             else None, f"first track {ms['first_track']:.0f} ms" if "first_track" in ms else None]
    return ", ".join(p for p in parts if p) + " after the dispatch"


def job_said(job: dict[str, Any]) -> tuple[str, ...]:
    """The server's record of the job (ListDispatch), as it says it."""
    if not job:
        return ()
    said = [f"{k} {job[k]}" for k in ("status", "worker_id", "participant_identity") if job.get(k)]
    error = f": {job['error']!r}" if job.get("error") else ""
    return (f"ListDispatch: job {job.get('id')} {', '.join(said)}{error}",)


def room_left(room: str, cleanup: dict[str, Any]) -> list[Finding]:
    """A note when the doctor could not delete a room it is responsible for (the server closes it once empty)."""
    if cleanup.get("room_deleted", True) or cleanup.get("others_in_room"):
        return []
    error = cleanup.get("error")
    return [finding("room-left", Severity.NOTE, f"room {room} could not be deleted" + (f": {error}" if error else ""),
                    evidence=[error] if error else [],
                    fix="The server closes it once it is empty (its empty_timeout); if this repeats, check that the "
                        "key has roomCreate rights (DeleteRoom).")]


def dispatches_said(dispatches: list[dict[str, Any]]) -> list[str]:
    """The server's list of the room's dispatches and their jobs (ListDispatch), as it says it."""
    if not dispatches:
        return ["ListDispatch: no dispatch in the room"]
    out = []
    for d in dispatches:
        jobs = ", ".join(f"job {j['id']} {j['status']}" + (f": {j['error']!r}" if j.get("error") else "")
                         for j in d["jobs"]) or "no job"
        out.append(f"ListDispatch: dispatch {d['id']} agent_name {d['agent_name']!r}: {jobs}")
    return out


def import_fix(error: str, pip: str, pins_unmet: bool) -> str:
    """The fix for `import livekit.agents` failing with `error` in the interpreter `pip` belongs to."""
    if pins_unmet:
        return f"Its requirements are not met: `{pip} install -U livekit-agents` resolves them."
    if "No module named " in error:
        missing = error.split("No module named ", 1)[1].strip("'\"").split(".")[0]
        return (f"It imports `{missing}`, which nothing installed: `{pip} install {missing}` (a dependency it uses "
                f"but does not declare), or upgrade: `{pip} install -U livekit-agents`.")
    return f"Reinstall or upgrade it: `{pip} install -U livekit-agents`."


def nothing_dispatched(run: Any, room: str, expected: str | None, left: str, waited: float) -> Finding:
    """LK605's finding when no agent came to the app's room and no dispatch names one (app_agent.AppAgentRun)."""
    if not run.dispatches_read:
        return finding("dispatches-unreadable", Severity.FAIL,
                       f"the server did not list the dispatches of the app's room {room!r} to the doctor "
                       + (f"({run.read_error})" if run.read_error else "(no answer in time)")
                       + f": whether the app asked for an agent is unknown{left}",
                       evidence=[run.read_error] if run.read_error else [],
                       fix="Give the doctor this server's API key and secret (see LK205): ListDispatch needs a token "
                           "with roomAdmin on the room.")
    said = dispatches_said(run.dispatches)
    if run.ignored_room_config():
        asked = ", ".join(map(repr, run.token_agents))
        return finding("room-config-ignored", Severity.FAIL,
                       f"the app's token asks for {asked} in roomConfig.agents, but room {room!r} existed before the "
                       "first join (the app created it): the server acts on roomConfig only when a join creates the "
                       f"room, so no agent was dispatched{left}",
                       evidence=[f"token roomConfig.agents: {asked}", *said],
                       fix="Dispatch with the API once the room exists (agent_dispatch.create_dispatch), or put "
                           "the agent in CreateRoomRequest(agents=[RoomAgentDispatch(agent_name=...)]); or do not "
                           "create the room and let the token's join create it.")
    return finding("nothing-dispatched", Severity.FAIL,
                   f"the app made room {room!r} but asked for no agent: no dispatch names one, and no worker "
                   f"without agent_name took the room within {waited:g} s{left}", evidence=said,
                   fix=f"Dispatch the agent for each session, after creating the room: await lkapi.agent_dispatch."
                       f"create_dispatch(api.CreateAgentDispatchRequest(agent_name={expected or 'AGENT_NAME'!r}, "
                       "room=room_name)) (or the token's roomConfig.agents when the join creates the room).")
