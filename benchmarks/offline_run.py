"""Benchmark 2: the checks that need no server, on the example project (budget 600 ms)."""

from __future__ import annotations

import statistics
import sys

from common import ROOT, doctor_env, median_ms, run_json, table

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
OFFLINE = "LK0,LK1,LK3,LK201,LK202,LK203,LK204"


def main() -> None:
    env = doctor_env(LIVEKIT_URL="ws://127.0.0.1:7880", LIVEKIT_API_KEY="APIbenchkey",
                     LIVEKIT_API_SECRET="bench-secret-bench-secret-bench-secret-0123")
    args = ["--select", OFFLINE, "--project", str(ROOT / "examples" / "voice_backend"), "--no-snapshot"]
    runs = [run_json(args, env) for _ in range(RUNS)]
    walls = [wall for wall, _ in runs]
    per_check: dict[str, list[float]] = {}
    for _, doc in runs:
        for r in doc["results"]:
            per_check.setdefault(r["check_id"], []).append(r["duration"])
    print(f"Offline run ({OFFLINE}) on examples/voice_backend, {RUNS} runs\n")
    print(table(["measure", "median"], [("wall clock, whole process", median_ms(walls)),
                                        ("runner (checks only)", median_ms([d["duration"] for _, d in runs]))]))
    print()
    rows = [(cid, f"{statistics.median(v) * 1000:.1f} ms") for cid, v in sorted(per_check.items())]
    print(table(["check", "median duration"], rows))


if __name__ == "__main__":
    main()
