"""Benchmark 4: code-scan throughput on a generated 100,000-line tree (budget: >= 50,000 lines/s).

Measures the scan itself (walk, read, parse, analyse) in-process, and `livekit-doctor scan`
as a whole command (start-up and SDK probe included). Usage: benchmarks/scan_throughput.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, doctor_cmd, doctor_env, table, timed

sys.path.insert(0, str(ROOT))

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


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = generate(root)
        knowledge = Knowledge()
        seconds, reports = [], []
        for _ in range(RUNS):
            start = time.perf_counter()
            reports.append(scan(root, knowledge))
            seconds.append(time.perf_counter() - start)
        report = reports[-1]
        walls = [timed(doctor_cmd("scan", str(root)), env=doctor_env(VIRTUAL_ENV=""))[0] for _ in range(3)]
        median = statistics.median(seconds)
        print(f"Code scan on a generated tree: {files} files, {report.lines} lines, {len(report.findings)} findings; "
              f"{RUNS} runs\n")
        print(table(["measure", "median", "lines/s"], [
            ("scan (walk, read, parse, analyse)", f"{median * 1000:.0f} ms", f"{report.lines / median:,.0f}"),
            ("`livekit-doctor scan DIR` (whole command)", f"{statistics.median(walls) * 1000:.0f} ms",
             f"{report.lines / statistics.median(walls):,.0f}"),
        ]))


if __name__ == "__main__":
    main()
