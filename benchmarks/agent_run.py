"""Benchmark: the voice-agent area (LK6xx) against a healthy local agent.

Budget (issue 18): with a healthy local agent the whole LK6xx area finishes within 3 s. Starts
the pinned server and the test echo agent (a real livekit-agents worker, tests/agent_worker.py),
then runs `livekit-doctor --select LK6 --ignore LK605 --agent echo` from the agent's project: once with
`--no-cache` (the agent SDK probe imports livekit.agents) and RUNS times with the cache warm.
Prints wall clock, the runner's total, each LK6xx check's duration, the join and answer
latencies, and the load average at the start and end (this machine's 2 cores are shared).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile

from common import doctor_env, median_ms, run_json, table
from livekit_server import LiveKitServer

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
LOCAL_STUN = {"rtc": {"stun_servers": ["127.0.0.1:3478"]}}


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def main() -> None:
    from agent_worker import AGENTS, AgentWorker
    from sdk_venvs import ensure_venv

    python = ensure_venv("agents-newest")
    load_before = _load()
    with tempfile.TemporaryDirectory() as cache, LiveKitServer(config=LOCAL_STUN) as server, \
            AgentWorker("echo", python, server):
        env = doctor_env(**server.env(), LIVEKIT_DOCTOR_CACHE=cache)
        # LK605 needs --app-endpoint (the app's session): without one it only pulls in LK502/LK503 to skip
        args = ["--select", "LK6", "--ignore", "LK605", "--agent", "echo", "--python", str(python), "--no-snapshot"]
        cold = [run_json([*args, "--no-cache"], env, cwd=AGENTS / "echo") for _ in range(RUNS)]
        run_json(args, env, cwd=AGENTS / "echo")  # fills the cache
        warm = [run_json(args, env, cwd=AGENTS / "echo") for _ in range(RUNS)]
    print(f"LK6xx with the echo agent (livekit-agents in {python}), {RUNS} runs each; "
          f"load average before {load_before}, after {_load()}\n")
    rows = []
    for label, runs in (("--no-cache (agent SDK probed)", cold), ("cache warm", warm)):
        ids = sorted(r["check_id"] for r in runs[0][1]["results"] if r["check_id"].startswith("LK6"))
        per = {cid: median_ms([next(r["duration"] for r in d["results"] if r["check_id"] == cid) for _, d in runs])
               for cid in ids}
        statuses = {r["check_id"]: r["status"] for _, d in runs for r in d["results"]}
        if any(statuses[cid] != "pass" for cid in ids):
            raise SystemExit(f"not every LK6xx check passed: {statuses}")
        rows.append((label, median_ms([w for w, _ in runs]), median_ms([d["duration"] for _, d in runs]),
                     ", ".join(f"{cid} {ms}" for cid, ms in per.items())))
    print(table(["run", "wall clock", "runner", "median per check"], rows))
    print()
    facts = [next(r["facts"] for r in d["results"] if r["check_id"] == cid)
             for _, d in cold + warm for cid in ("LK603",)]
    answers = [next(r["facts"] for r in d["results"] if r["check_id"] == "LK604") for _, d in cold + warm]
    print("LK603's joined_ms and first_track_ms are on the server's clock, since the dispatch was created\n")
    print(table(["measure", "median", "min", "max"], [
        (name, f"{statistics.median(v):.0f} ms", f"{min(v):.0f} ms", f"{max(v):.0f} ms") for name, v in (
            ("LK603 joined_ms (dispatch to agent in room)", [f["joined_ms"] for f in facts]),
            ("LK603 first_track_ms", [f["first_track_ms"] for f in facts]),
            ("LK604 p50_ms (voice-to-voice)", [f["p50_ms"] for f in answers]),
            ("LK604 p90_ms", [f["p90_ms"] for f in answers]))]))


if __name__ == "__main__":
    main()
