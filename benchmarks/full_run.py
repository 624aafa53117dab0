"""Benchmark 3: every check against a local real LiveKit server, media round-trip included.

Budget: 2.5 s with media, 1 s for the checks that need no media; the critical path shows how
close concurrency brings the total to the longest chain of needs. Also prints the measured
latencies (the checks' *_ms facts): DNS, connect, first byte, join, and each round-trip step.
"""

from __future__ import annotations

import statistics
import sys

from common import ROOT, critical_path, doctor_env, median_ms, run_json, table
from livekit_server import LiveKitServer

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
MEDIA = "LK5"


def main() -> None:
    project = ["--project", str(ROOT / "examples" / "voice_backend"), "--no-snapshot"]
    with LiveKitServer() as server:
        # A host name, as users have, so LK401 does a real lookup (an IP address needs none).
        env = doctor_env(**server.env() | {"LIVEKIT_URL": f"ws://localhost:{server.port}"})
        full = [run_json(project, env) for _ in range(RUNS)]
        no_media = [run_json([*project, "--ignore", MEDIA], env) for _ in range(RUNS)]
    print(f"Full run against livekit-server v1.13.5 on loopback, {RUNS} runs each\n")
    rows = []
    for label, runs in (("all checks (with media)", full), (f"without media (--ignore {MEDIA})", no_media)):
        paths = [critical_path(doc["results"]) for _, doc in runs]
        rows.append((label, median_ms([w for w, _ in runs]), median_ms([d["duration"] for _, d in runs]),
                     median_ms([p[0] for p in paths]), " > ".join(paths[-1][1])))
    print(table(["run", "wall clock", "runner", "critical path", "critical chain (last run)"], rows))
    print()
    per_check: dict[str, list[float]] = {}
    status: dict[str, str] = {}
    for _, doc in full:
        for r in doc["results"]:
            per_check.setdefault(r["check_id"], []).append(r["duration"])
            status[r["check_id"]] = r["status"]
    print(table(["check", "status", "median duration"],
                [(cid, status[cid], f"{statistics.median(v) * 1000:.1f} ms") for cid, v in sorted(per_check.items())]))
    print()
    measured: dict[tuple[str, str], list[float]] = {}  # the *_ms facts: layer latencies, round-trip steps
    for _, doc in full:
        for r in doc["results"]:
            for name, value in r["facts"].items():
                if name.endswith("_ms") and isinstance(value, (int, float)):
                    measured.setdefault((r["check_id"], name), []).append(value)
    print(table(["check", "measure", "median"],
                [(cid, name, f"{statistics.median(v):.1f} ms") for (cid, name), v in sorted(measured.items())]))


if __name__ == "__main__":
    main()
