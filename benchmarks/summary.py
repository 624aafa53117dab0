"""The performance issue's table: each figure next to its baseline, measured in the same run, alternating.

- `--help` and `list` (replayed, and cold: an empty cache each time) against `python -c "import click"`;
- the offline run, first (empty cache) and when nothing changed since the last run;
- the full run against a local server: wall clock, runner, and the media round-trip (LK501) alone;
- `--select LK2,LK4` and the full run against a by-hand SDK script asking the same questions;
- peak RSS of a full run (the doctor and its child processes).

The full run is measured on the checks of LK0-LK5 (the table's scope) and on every check.
Usage: benchmarks/summary.py [RUNS]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

from by_hand import SCRIPT
from common import ROOT, doctor_cmd, doctor_env, table
from livekit_server import LiveKitServer

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 7
OFFLINE = "LK0,LK1,LK3,LK201,LK202,LK203,LK204"
TABLE_SCOPE = "LK0,LK1,LK2,LK3,LK4,LK5"
PROJECT = ["--project", str(ROOT / "examples" / "voice_backend"), "--no-snapshot"]


def measure(cmd: Sequence[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in KiB (the process or any child it waited for), stdout."""
    start = time.perf_counter()
    with subprocess.Popen(list(cmd), env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        out = proc.stdout.read() if proc.stdout else ""
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}")
    return elapsed, usage.ru_maxrss, out


def ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def ratio(values: Sequence[float], base: Sequence[float]) -> str:
    return f"{statistics.median(values) / statistics.median(base):.2f}"


def main() -> None:
    rows: list[tuple[str, str, str, str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        warm = doctor_env(LIVEKIT_DOCTOR_CACHE=str(Path(tmp) / "warm"))

        def cold() -> dict[str, str]:
            return doctor_env(LIVEKIT_DOCTOR_CACHE=tempfile.mkdtemp(dir=tmp))

        click_t, help_t, help_cold, list_t = [], [], [], []
        measure(doctor_cmd("--help"), warm)
        measure(doctor_cmd("list"), warm)
        for _ in range(RUNS * 2):  # alternating, so that load changes hit both alike
            click_t.append(measure([sys.executable, "-c", "import click"], warm)[0])
            help_t.append(measure(doctor_cmd("--help"), warm)[0])
            list_t.append(measure(doctor_cmd("list"), warm)[0])
            help_cold.append(measure(doctor_cmd("--help"), cold())[0])
        rows += [("`--help` vs `python -c \"import click\"`", f"{ms(help_t)} vs {ms(click_t)}", ratio(help_t, click_t),
                  "<= 1.3", "yes" if statistics.median(help_t) <= 1.3 * statistics.median(click_t) else "no"),
                 ("`list` vs `python -c \"import click\"`", f"{ms(list_t)} vs {ms(click_t)}", ratio(list_t, click_t),
                  "<= 1.3", "yes" if statistics.median(list_t) <= 1.3 * statistics.median(click_t) else "no"),
                 ("`--help`, empty cache, vs `import click`", f"{ms(help_cold)} vs {ms(click_t)}",
                  ratio(help_cold, click_t), "-", "-")]

        offline_env = {"LIVEKIT_URL": "ws://127.0.0.1:7880", "LIVEKIT_API_KEY": "APIbenchkey",
                       "LIVEKIT_API_SECRET": "bench-secret-bench-secret-bench-secret-0123"}
        offline = [*doctor_cmd("--select", OFFLINE, *PROJECT, "--format", "json")]
        first, again = [], []
        measure(offline, warm | offline_env)
        for _ in range(RUNS):
            first.append(measure(offline, cold() | offline_env)[0])
            again.append(measure(offline, warm | offline_env)[0])
        rows += [("offline run, first (empty cache)", ms(first), "-", "<= 600 ms",
                  "yes" if statistics.median(first) <= 0.6 else "no"),
                 ("offline run, nothing changed since the last", ms(again), "-", "<= 300 ms",
                  "yes" if statistics.median(again) <= 0.3 else "no")]

        with LiveKitServer() as server:
            env = warm | server.env() | {"LIVEKIT_URL": f"ws://localhost:{server.port}"}
            full = [*doctor_cmd(*PROJECT, "--format", "json")]
            scoped = [*full, "--select", TABLE_SCOPE]
            creds = [*doctor_cmd(*PROJECT, "--select", "LK2,LK4", "--format", "json")]
            measure(scoped, env)
            script, walls, runners, media, rss, cred_t, every, every_rss = [], [], [], [], [], [], [], []
            for _ in range(RUNS):
                script.append(measure([sys.executable, "-c", SCRIPT], env)[0])
                wall, peak, out = measure(scoped, env)
                doc = json.loads(out)
                walls.append(wall)
                rss.append(peak)
                runners.append(doc["duration"])
                media += [r["duration"] for r in doc["results"] if r["check_id"] == "LK501" and r["status"] == "pass"]
                cred_t.append(measure(creds, env)[0])
                wall, peak, _ = measure(full, env)
                every.append(wall)
                every_rss.append(peak)
        rows += [("full run (LK0-LK5) with media, wall clock", ms(walls), "-", "<= 1.0 s",
                  "yes" if statistics.median(walls) <= 1.0 else "no"),
                 ("runner vs the media round-trip (LK501) alone", f"{ms(runners)} vs {ms(media)}",
                  ratio(runners, media), "<= 1.1", "yes" if statistics.median(runners) <= 1.1 * statistics.median(media)
                  else "no"),
                 ("`--select LK2,LK4` vs a by-hand SDK script", f"{ms(cred_t)} vs {ms(script)}", ratio(cred_t, script),
                  "<= 1.0", "yes" if statistics.median(cred_t) <= statistics.median(script) else "no"),
                 ("full run (LK0-LK5) vs the by-hand script", f"{ms(walls)} vs {ms(script)}", ratio(walls, script),
                  "<= 2.0", "yes" if statistics.median(walls) <= 2 * statistics.median(script) else "no"),
                 ("peak RSS of a full run (LK0-LK5)", f"{max(rss) / 1024:.0f} MiB", "-", "< 200 MiB",
                  "yes" if max(rss) < 200 * 1024 else "no"),
                 ("every check (all plugins), wall clock / peak RSS", f"{ms(every)} / {max(every_rss) / 1024:.0f} MiB",
                  "-", "-", "-")]
    load = os.getloadavg()[0]
    print(f"The issue's figures, medians of {RUNS} alternating runs (load average {load:.1f})\n")
    print(table(["figure", "measured (vs baseline)", "ratio", "goal", "met"], rows))


if __name__ == "__main__":
    main()
