"""Shared helpers for the benchmark scripts: timing subprocesses and printing tables."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def doctor_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "GITHUB_"))}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


def timed(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr}")
    return elapsed, proc.stdout


def doctor_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "livekit_doctor", *args]


def run_json(args: Sequence[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, dict[str, Any]]:
    elapsed, out = timed(doctor_cmd(*args, "--format", "json"), env=env, cwd=cwd)
    return elapsed, json.loads(out)


def median_ms(values: Sequence[float]) -> str:
    return f"{statistics.median(values) * 1000:.0f} ms"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [[str(c) for c in headers], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def critical_path(results: list[dict[str, Any]]) -> tuple[float, list[str]]:
    """Longest chain of `needs` weighted by duration: the floor for a fully concurrent run."""
    from livekit_doctor import PRODUCT
    from livekit_doctor.registry import load

    needs = {cid: c.needs for cid, c in load(PRODUCT).checks.items()}
    duration = {r["check_id"]: r["duration"] for r in results}
    memo: dict[str, tuple[float, list[str]]] = {}

    def longest(cid: str) -> tuple[float, list[str]]:
        if cid not in memo:
            best: tuple[float, list[str]] = (0.0, [])
            for need in needs.get(cid, ()):
                if need in duration:
                    best = max(best, longest(need))
            memo[cid] = (best[0] + duration[cid], [*best[1], cid])
        return memo[cid]

    return max((longest(cid) for cid in duration), default=(0.0, []))
