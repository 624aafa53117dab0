import asyncio
import dataclasses
import threading

from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.result import Status, failed, passed
from livekit_doctor.runner import run_blocking, run_checks


def run(checks, timeout=None, ctx=None):
    return asyncio.run(run_checks(checks, ctx or Context(), timeout=timeout))


def test_independent_async_checks_run_concurrently():
    """Each check waits for the other: run one after the other, both would time out."""
    arrived = {"TT001": None, "TT002": None}

    def make(cid, other):
        @check(cid, cid, area="t", timeout=5)
        async def meet(ctx):
            arrived[cid] = asyncio.Event() if arrived[cid] is None else arrived[cid]
            arrived[cid].set()
            while arrived[other] is None:
                await asyncio.sleep(0.01)
            await arrived[other].wait()
            return passed("met")

        return meet

    result = run([make("TT001", "TT002"), make("TT002", "TT001")])
    assert [(r.status, r.summary) for r in result.results] == [(Status.PASS, "met")] * 2


def test_sync_checks_run_in_threads_concurrently():
    barrier = threading.Barrier(2, timeout=5)

    def make(cid):
        @check(cid, cid, area="t", timeout=10)
        def meet(ctx):
            barrier.wait()  # raises BrokenBarrierError if the other never runs alongside
            return passed("met")

        return meet

    result = run([make("TT001"), make("TT002")])
    assert [r.status for r in result.results] == [Status.PASS, Status.PASS]


def test_more_sync_checks_than_a_thread_pool_all_run_at_once():
    """Twenty sync checks meet at one barrier: a bounded pool (asyncio.to_thread) would break it."""
    count = 20
    barrier = threading.Barrier(count, timeout=10)

    def make(cid):
        @check(cid, cid, area="t", timeout=20)
        def meet(ctx):
            barrier.wait()
            return passed("met")

        return meet

    result = run([make(f"TT{n:03d}") for n in range(count)])
    assert {(r.status, r.summary) for r in result.results} == {(Status.PASS, "met")}


def test_hung_sync_check_is_reported_and_does_not_hold_the_run():
    """The run returns while the hung check's thread is still blocked (it is not joined)."""
    release, finished = threading.Event(), threading.Event()

    @check("TT001", "hangs", area="t", timeout=0.2)
    def hangs(ctx):
        release.wait(30)
        finished.set()
        return passed("late")

    @check("TT002", "fine", area="t")
    def fine(ctx):
        return passed("ok")

    try:
        res = run([hangs, fine]).results
        still_blocked = not finished.is_set()
    finally:
        release.set()
    assert [(r.status, r.summary) for r in res] == [(Status.ERROR, "timed out after 0.2 s"), (Status.PASS, "ok")]
    assert still_blocked


def test_sync_check_calling_sys_exit_is_an_error_not_an_exit():
    @check("TT001", "exits", area="t")
    def exits(ctx):
        raise SystemExit(3)

    (res,) = run([exits]).results
    assert (res.status, res.summary) == (Status.ERROR, "RuntimeError: SystemExit raised")


def test_failed_need_skips_dependents_with_reason():
    @check("TT001", "base", area="t")
    def base(ctx):
        return failed("broken")

    @check("TT002", "dependent", area="t", needs=["TT001"])
    def dep(ctx):
        raise AssertionError("must not run")

    res = run([base, dep]).results
    assert res[1].status is Status.SKIP
    assert res[1].summary == "skipped: TT001 failed"


def test_dependent_sees_result_of_its_need():
    @check("TT001", "base", area="t")
    def base(ctx):
        return passed("ok", facts={"value": 42})

    @check("TT002", "dependent", area="t", needs=["TT001"])
    def dep(ctx):
        return passed(f"got {ctx.results['TT001'].facts['value']}")

    assert run([base, dep]).results[1].summary == "got 42"


def test_timeout_becomes_error_and_others_still_run():
    @check("TT001", "hangs", area="t", timeout=0.2)
    async def hangs(ctx):
        await asyncio.sleep(30)

    @check("TT002", "fine", area="t")
    def fine(ctx):
        return passed("ok")

    res = run([hangs, fine]).results
    assert (res[0].status, res[0].summary) == (Status.ERROR, "timed out after 0.2 s")
    assert res[1].status is Status.PASS


def test_exception_becomes_error_with_one_line_and_traceback():
    @check("TT001", "crashes", area="t")
    def crashes(ctx):
        raise ValueError("bad thing\nsecond line")

    res = run([crashes]).results[0]
    assert res.status is Status.ERROR
    assert res.summary == "ValueError: bad thing"
    assert "Traceback" in res.traceback and "crashes" in res.traceback


def test_non_result_return_is_error():
    @check("TT001", "returns junk", area="t")
    def junk(ctx):
        return "ok"

    res = run([junk]).results[0]
    assert (res.status, res.summary) == (Status.ERROR, "check returned str, not a Result")


def test_whole_run_timeout_marks_unfinished_checks():
    @check("TT001", "slow", area="t", timeout=30)
    async def slow(ctx):
        await asyncio.sleep(10)

    @check("TT002", "quick", area="t")
    def quick(ctx):
        return passed("ok")

    reported = []
    result = asyncio.run(run_checks([slow, quick], Context(), on_result=reported.append, timeout=0.3))
    assert result.timed_out
    assert result.results[0].status is Status.ERROR
    assert result.results[0].summary == "run timed out after 0.3 s"
    assert result.results[1].status is Status.PASS
    assert [r.check_id for r in reported] == ["TT002", "TT001"]  # the unfinished one is reported live too


def test_cancellation_runs_cleanup_and_keeps_finished_results():
    cleaned = []

    @check("TT001", "holds a resource", area="t", timeout=30)
    async def holds(ctx):
        try:
            await asyncio.sleep(30)
        finally:
            cleaned.append("room deleted")

    @check("TT002", "quick", area="t")
    def quick(ctx):
        return passed("ok")

    async def main():
        task = asyncio.create_task(run_checks([holds, quick], Context()))
        await asyncio.sleep(0.2)
        task.cancel()  # what asyncio.run does on Ctrl-C
        return await task

    result = asyncio.run(main())
    assert result.interrupted
    assert cleaned == ["room deleted"]
    assert [r.status for r in result.results] == [Status.ERROR, Status.PASS]
    assert result.results[0].summary == "interrupted"


def test_result_is_stamped_with_identity_and_docs():
    @check("TT007", "Stamped", area="tests")
    def ok(ctx):
        return passed("fine")

    res = run([dataclasses.replace(ok, docs_url="docs/checks")]).results[0]
    assert (res.check_id, res.title, res.area, res.docs) == ("TT007", "Stamped", "tests", "docs/checks/TT007.md")
    assert run([ok]).results[0].docs == ""  # a plugin that declares no docs links to none
    assert res.duration >= 0


def test_after_orders_without_skipping():
    @check("TT001", "slow and failing", area="t")
    async def base(ctx):
        await asyncio.sleep(0.05)
        return failed("broken")

    @check("TT002", "reads it", area="t", after=["TT001"])
    def reader(ctx):
        return passed(f"saw {ctx.results['TT001'].status.value}")

    @check("TT003", "after an unselected one", area="t", after=["TT999"])
    def lonely(ctx):
        return passed("ran")

    res = run([reader, base, lonely]).results
    assert [(r.check_id, r.summary) for r in res] == [("TT002", "saw fail"), ("TT001", "broken"), ("TT003", "ran")]


def _ignores_cancellation(cid, timeout):
    @check(cid, "stubborn", area="t", timeout=timeout)
    async def stubborn(ctx):
        while True:
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                pass  # a cleanup that never ends

    return stubborn


def test_check_whose_cleanup_hangs_is_abandoned_and_the_run_ends():
    @check("TT002", "fine", area="t")
    async def fine(ctx):
        return passed("ok")

    run = run_blocking([_ignores_cancellation("TT001", 0.1), fine], Context(), grace=0.1)
    assert [(r.status, r.summary) for r in run.results] == [
        (Status.ERROR, "timed out after 0.1 s; abandoned: its cleanup did not finish within 0.1 s"),
        (Status.PASS, "ok"),
    ]


def test_whole_run_timeout_with_a_stubborn_check_still_returns():
    run = run_blocking([_ignores_cancellation("TT001", 60)], Context(), timeout=0.1, grace=0.1)
    assert run.timed_out
    assert [(r.status, r.summary) for r in run.results] == [(Status.ERROR, "run timed out after 0.1 s")]


def test_cleanup_that_finishes_within_grace_runs_before_the_result():
    cleaned = []

    @check("TT001", "cleans up", area="t", timeout=0.1)
    async def cleans_up(ctx):
        try:
            await asyncio.sleep(30)
        finally:
            await asyncio.sleep(0.05)  # e.g. deleting the room it created
            cleaned.append(True)

    (res,) = run_blocking([cleans_up], Context(), grace=5).results
    assert (res.status, res.summary, cleaned) == (Status.ERROR, "timed out after 0.1 s", [True])


def test_checks_waiting_when_the_run_times_out_are_skipped_not_errors():
    @check("TT001", "slow", area="t", timeout=30)
    async def slow(ctx):
        await asyncio.sleep(10)

    @check("TT002", "after it", area="t", needs=("TT001",))
    def waiting(ctx):
        return passed("ok")

    result = asyncio.run(run_checks([slow, waiting], Context(), timeout=0.2))
    assert [(r.status, r.summary) for r in result.results] == [
        (Status.ERROR, "run timed out after 0.2 s"),
        (Status.SKIP, "not run: the run timed out after 0.2 s while it waited for TT001")]


def test_no_checks_selected_is_an_empty_run():
    result = run([], timeout=1)
    assert (result.results, result.timed_out, result.interrupted) == ([], False, False)
