"""Speculative checks: started with the run, held until their needs pass, cancelled (cleaning up) when one fails."""

import asyncio

from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.result import Status, failed, passed
from livekit_doctor.runner import run_checks


def run(checks, ctx=None):
    return asyncio.run(run_checks(checks, ctx or Context()))


def layers(need_status, log, need_delay=0.2):
    @check("TT001", "lower layer", area="t", timeout=5)
    async def lower(ctx):
        await asyncio.sleep(need_delay)
        log.append("lower done")
        return passed("up") if need_status == "pass" else failed("down")

    @check("TT002", "round trip", area="t", needs=("TT001",), timeout=5, speculative=True)
    async def upper(ctx):
        log.append("upper started")
        try:
            await asyncio.sleep(0.5)
            log.append("upper worked")
            await ctx.settled("TT001")
            return passed(f"round trip; lower said {ctx.results['TT001'].summary}")
        finally:
            log.append("upper cleaned up")

    return [lower, upper]


def test_a_speculative_check_starts_before_its_needs_and_reports_after_them():
    log = []
    result = run(layers("pass", log))
    assert log == ["upper started", "lower done", "upper worked", "upper cleaned up"]  # overlapped
    by_id = {r.check_id: r for r in result.results}
    assert (by_id["TT002"].status, by_id["TT002"].summary) == (Status.PASS, "round trip; lower said up")


def test_a_failed_need_cancels_it_at_once_and_the_verdict_is_the_usual_skip():
    log = []
    result = run(layers("fail", log, need_delay=0.05))
    by_id = {r.check_id: r for r in result.results}
    assert (by_id["TT002"].status, by_id["TT002"].summary, by_id["TT002"].caused_by) == (
        Status.SKIP, "skipped: TT001 failed", ("TT001",))
    assert log == ["upper started", "lower done", "upper cleaned up"]  # cancelled mid-work, cleaned up


def test_its_after_checks_finish_before_it_reports():
    order = []

    @check("TT003", "slow sibling", area="t", timeout=5)
    async def sibling(ctx):
        await asyncio.sleep(0.2)
        order.append("TT003")
        return passed("ok")

    @check("TT004", "need", area="t", timeout=5)
    async def need(ctx):
        return passed("ok")

    @check("TT005", "speculative", area="t", needs=("TT004",), after=("TT003",), timeout=5, speculative=True)
    async def spec(ctx):
        return passed("quick")

    ctx = Context()
    seen = []

    async def main():
        return await run_checks([sibling, need, spec], ctx, on_result=lambda r: seen.append(r.check_id))

    asyncio.run(main())
    assert seen.index("TT003") < seen.index("TT005")
