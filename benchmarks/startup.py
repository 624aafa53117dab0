"""Benchmark 1: CLI start-up, `--help` and `list`, median of repeated runs (budget 150 / 250 ms)."""

from __future__ import annotations

import sys

from common import doctor_cmd, doctor_env, median_ms, table, timed

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 15


def main() -> None:
    rows = []
    for label, args, budget in (("--help", ["--help"], "150 ms"), ("list", ["list"], "250 ms")):
        times = [timed(doctor_cmd(*args), env=doctor_env())[0] for _ in range(RUNS)]
        rows.append((f"livekit-doctor {label}", median_ms(times), f"{min(times) * 1000:.0f} ms",
                     f"{max(times) * 1000:.0f} ms", budget))
    print(f"CLI start-up, {RUNS} runs each\n")
    print(table(["command", "median", "min", "max", "budget"], rows))


if __name__ == "__main__":
    main()
