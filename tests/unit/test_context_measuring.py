"""Context.measuring / wait_for_quiet: CPU-heavy work holds off while a latency is timed."""

from __future__ import annotations

import gc
import threading
import time

from livekit_doctor.context import Context


def test_work_waits_while_a_measurement_is_open_and_resumes_when_it_closes():
    ctx = Context()
    resumed = threading.Event()

    def work() -> None:
        ctx.wait_for_quiet(limit=10)
        resumed.set()

    with ctx.measuring():
        worker = threading.Thread(target=work)
        worker.start()
        assert not resumed.wait(0.2)  # held off for as long as the measurement lasts
    assert resumed.wait(5)  # and released as soon as it closes
    worker.join()


def test_nested_measurements_release_work_only_when_the_last_one_closes():
    ctx = Context()
    with ctx.measuring():
        with ctx.measuring():
            pass
        start = time.monotonic()
        ctx.wait_for_quiet(limit=0.2)
        assert time.monotonic() - start >= 0.19  # still one open: waited out its limit
    start = time.monotonic()
    ctx.wait_for_quiet(limit=5)
    assert time.monotonic() - start < 1  # none open: no wait


def test_a_measurement_that_never_ends_delays_work_by_the_limit_only():
    ctx = Context()
    with ctx.measuring():
        start = time.monotonic()
        ctx.wait_for_quiet(limit=0.3)
        assert 0.29 <= time.monotonic() - start < 3


def test_the_collector_is_off_while_measuring_and_back_on_after():
    ctx = Context()
    assert gc.isenabled()
    with ctx.measuring():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off():
    ctx = Context()
    gc.disable()
    try:
        with ctx.measuring():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_doctors_code_scan_holds_off_while_a_latency_is_timed():
    """The real scan (and SDK probe, in this interpreter) of a sample project, a measurement open meanwhile."""
    import asyncio
    import sys
    from pathlib import Path

    from livekit_doctor.checks.code import code_scan

    project = Path(__file__).parent.parent / "fixtures" / "codescan" / "patterns" / "misuse"

    async def run() -> None:
        ctx = Context(project_dir=project, options={"python": sys.executable}, env={})
        with ctx.measuring():
            scanning = asyncio.ensure_future(code_scan(ctx))
            await asyncio.sleep(1.0)
            assert not scanning.done()  # paused at its first file
        report = await asyncio.wait_for(scanning, 60)
        assert report.files > 0 and report.findings

    asyncio.run(run())
