"""Benchmark 4: code-scan throughput on a generated 100,000-line tree and on real code.

Measures the scan itself (walk, read, first pass, parse, analyse) in-process, and `livekit-doctor
scan DIR --no-cache` as a whole command (start-up and SDK probe included; "cold" is no scan
results kept: with --no-cache the SDK is probed afresh too, without it the probe's answer is cached; then
with the results cache warm), on a generated tree and on the real-world corpus of tests/scan_corpus.py (all
of it, and its largest package, `livekit/`: agents, rtc, api, protocol). Budgets on real code: scan
>= 100,000 lines/s, command >= 60,000 lines/s. Usage: benchmarks/scan_throughput.py [RUNS]
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, doctor_cmd, doctor_env, table, timed

sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from livekit_doctor.checks.codescan.knowledge import Knowledge  # noqa: E402
from livekit_doctor.checks.codescan.scan import scan  # noqa: E402

RUNS = int(sys.argv[1]) if len(sys.argv) > 1 else 5
TARGET_LINES = 100_000
MODULE = '''"""Generated module {n}: a service using the LiveKit server API."""
import asyncio
import os

from livekit import api


class Service{n}:
    def __init__(self) -> None:
        self._api: api.LiveKitAPI | None = None
        self.calls = 0

    def client(self) -> api.LiveKitAPI:
        if self._api is None:
            self._api = api.LiveKitAPI()
        return self._api

    async def create(self, name: str) -> str:
        self.calls += 1
        room = await self.client().room.create_room(api.CreateRoomRequest(name=name, empty_timeout=60))
        token = (api.AccessToken()
                 .with_identity(f"user-{{self.calls}}")
                 .with_grants(api.VideoGrants(room_join=True, room=room.name))
                 .to_jwt())
        return token

    async def cleanup(self, names: list[str]) -> None:
        results = await asyncio.gather(*(self.client().room.delete_room(api.DeleteRoomRequest(room=n)) for n in names))
        for result in results:
            print(result)
        if self._api is not None:
            await self._api.aclose()


def helper_{n}(values: list[int]) -> int:
    total = 0
    for value in values:
        if value % 2:
            total += value * {n}
        else:
            total -= value
    return total
'''


def generate(root: Path) -> int:
    lines, n = 0, 0
    while lines < TARGET_LINES:
        package = root / f"pkg{n // 50}"
        package.mkdir(exist_ok=True)
        text = MODULE.format(n=n)
        (package / f"mod{n}.py").write_text(text)
        lines += text.count("\n")
        n += 1
    return n


def measure(name: str, root: Path, cache: Path) -> list[tuple[str, str, str]]:
    """The in-process scan (RUNS runs), the whole command without and with the results cache (3 runs each)."""
    seconds, reports = [], []
    for _ in range(RUNS):
        start = time.perf_counter()
        reports.append(scan(root, Knowledge()))
        seconds.append(time.perf_counter() - start)
    report = reports[-1]
    command = doctor_cmd("scan", str(root), "--python", sys.executable)
    env = doctor_env(VIRTUAL_ENV="", LIVEKIT_DOCTOR_CACHE=str(cache))
    cold = statistics.median(timed([*command, "--no-cache"], env=env)[0] for _ in range(3))
    timed(command, env=env)  # fills the caches (SDK probe, scan results)
    no_results = []
    for _ in range(3):  # cold for the scan (no results kept), the SDK probe's answer cached
        shutil.rmtree(cache / "scan-results", ignore_errors=True)
        no_results.append(timed(command, env=env)[0])
    timed(command, env=env)
    warm = statistics.median(timed(command, env=env)[0] for _ in range(3))
    probe_warm = statistics.median(no_results)
    median = statistics.median(seconds)
    print(f"{name}: {report.files} files, {report.lines} lines ({report.analysed} analysed), "
          f"{len(report.findings)} findings")
    return [(f"{name}: scan", f"{median * 1000:.0f} ms", f"{report.lines / median:,.0f}"),
            (f"{name}: `livekit-doctor scan DIR --no-cache`", f"{cold * 1000:.0f} ms", f"{report.lines / cold:,.0f}"),
            (f"{name}: `livekit-doctor scan DIR`, no results cached, probe cached", f"{probe_warm * 1000:.0f} ms",
             f"{report.lines / probe_warm:,.0f}"),
            (f"{name}: `livekit-doctor scan DIR` (cache warm)", f"{warm * 1000:.0f} ms", f"{report.lines / warm:,.0f}")]


def main() -> None:
    from scan_corpus import ensure_corpus

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        root, cache = Path(tmp) / "tree", Path(tmp) / "cache"
        root.mkdir()
        generate(root)
        rows += measure("generated tree", root, cache)
        corpus = ensure_corpus()
        rows += measure("real corpus", corpus, cache)
        rows += measure("largest package (livekit/)", corpus / "livekit", cache)
    print(f"\nmedians of {RUNS} in-process runs and 3 command runs each (load average {os.getloadavg()[0]:.1f})\n")
    print(table(["measure", "median", "lines/s"], rows))
    scan_rate, cold_rate, cached_rate = (row[2] for row in rows[-4:-1])  # the largest package's
    print(f"\nlargest corpus package (livekit/), cold (no scan results kept): scan {scan_rate} lines/s (goal >= "
          f"100,000); command {cold_rate} lines/s with --no-cache (SDK probed afresh), {cached_rate} lines/s with "
          "the probe's answer cached (goal >= 60,000)")


if __name__ == "__main__":
    main()
