"""Benchmark: do the network checks measure the network while a large code scan runs beside them?

Runs the doctor against a local real LiveKit server, alternating an empty project and a generated
100,000-line one (the scan then parses on the same cores while LK402-LK405 and LK501 time their
steps), and compares the latencies the report shows: connect (LK402), first byte (LK404), join
(LK405), data round-trip (LK501). The scan holds off while a step is timed (Context.measuring), so
the two columns should agree. Usage: benchmarks/scan_beside_network.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

from common import doctor_env, run_json, table
from livekit_server import LiveKitServer
from scan_throughput import generate

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
MEASURES = {("LK402", "connect_ms"): "TCP connect", ("LK404", "first_byte_ms"): "HTTP first byte",
            ("LK405", "join_ms"): "signalling join", ("LK501", "data_rtt_ms"): "data round-trip"}


def latencies(doc: dict) -> dict[str, float]:
    found = {}
    for r in doc["results"]:
        for (check_id, name), label in MEASURES.items():
            value = r["facts"].get(name) if r["check_id"] == check_id else None
            if isinstance(value, dict):  # per address
                value = min(value.values(), default=None)
            if isinstance(value, (int, float)):
                found[label] = float(value)
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as large, \
            tempfile.TemporaryDirectory() as cache, LiveKitServer() as server:
        files = generate(Path(large))
        env = doctor_env(**server.env(), LIVEKIT_DOCTOR_CACHE=cache)
        args = ["--no-snapshot", "--no-cache", "--select", "LK3,LK402,LK404,LK405,LK501"]
        runs: dict[str, list[dict[str, float]]] = {"empty": [], "large": []}
        scanned = 0
        for _ in range(RUNS):
            for name, project in (("empty", empty), ("large", large)):
                _, doc = run_json([*args, "--project", project], env)
                runs[name].append(latencies(doc))
                if name == "large":
                    scanned = max((r["facts"].get("lines", 0) for r in doc["results"]
                                   if r["check_id"].startswith("LK3")), default=0)
    print(f"Latencies the report shows, empty project vs a generated one ({files} files, {scanned:,} lines "
          f"scanned beside the network checks), median of {RUNS} alternating runs, --no-cache\n")
    rows = []
    for label in MEASURES.values():
        empty_ms = [r[label] for r in runs["empty"] if label in r]
        large_ms = [r[label] for r in runs["large"] if label in r]
        if empty_ms and large_ms:
            a, b = statistics.median(empty_ms), statistics.median(large_ms)
            rows.append((label, f"{a:.1f} ms", f"{b:.1f} ms", f"{b / a:.2f}×" if a else "-"))
    print(table(["latency", "empty project", "large scan beside", "ratio"], rows))


if __name__ == "__main__":
    main()
