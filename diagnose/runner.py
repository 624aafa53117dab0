"""Runs checks concurrently as a DAG of needs, with per-check and whole-run timeouts."""

from __future__ import annotations

import asyncio
import contextvars
import signal
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from livekit_doctor.check import Check
from livekit_doctor.context import Context
from livekit_doctor.result import Finding, Result, Severity, Status, errored, finding, skipped, worst_status

OnResult = Callable[[Result], None]
CLEANUP_GRACE = 10.0  # seconds a cancelled check may take to clean up (delete its rooms) before it is abandoned


@dataclass
class Run:
    """A finished (or interrupted) run: results in check order plus run-level facts."""

    results: list[Result] = field(default_factory=list)
    started_at: float = 0.0
    duration: float = 0.0
    interrupted: bool = False
    timed_out: bool = False


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def _call(chk: Check, ctx: Context) -> Result:
    if chk.is_async:
        return await chk.func(ctx)  # type: ignore[misc]
    return await _in_daemon_thread(chk, ctx)


def _in_daemon_thread(chk: Check, ctx: Context) -> asyncio.Future[Result]:
    """Run a sync check on its own daemon thread.

    Not asyncio.to_thread: its small shared pool lets a few slow sync checks starve the rest
    (and the loop's DNS lookups), and asyncio.run joins its threads at exit, so one hung check
    would keep the doctor from ever exiting after its timeout was reported.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Result] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Result | None, exc: BaseException | None) -> None:
        if future.done():  # cancelled by the check's timeout or Ctrl-C
            return
        if exc is None:
            future.set_result(value)  # type: ignore[arg-type]
        else:
            future.set_exception(exc if isinstance(exc, Exception) else RuntimeError(f"{type(exc).__name__} raised"))

    def work() -> None:
        try:
            value, exc = context.run(chk.func, ctx), None  # type: ignore[arg-type]
        except BaseException as raised:  # reported as the check's error; the thread must not die silently
            value, exc = None, raised
        try:
            loop.call_soon_threadsafe(settle, value, exc)
        except RuntimeError:  # the loop has closed: the run ended without this check
            pass

    threading.Thread(target=work, name=f"check-{chk.id}", daemon=True).start()
    return future


async def run_check(chk: Check, ctx: Context, grace: float = CLEANUP_GRACE) -> Result:
    """Run one check; a timeout or an exception becomes an `error` result, never propagates.

    Not asyncio.wait_for: it waits without limit for a timed-out check to finish cancelling, so
    a check whose cleanup hangs would hang the run. Cleanup gets `grace` seconds, then the check
    is abandoned.
    """
    start = time.perf_counter()
    task = asyncio.ensure_future(_call(chk, ctx))
    try:
        done, _ = await asyncio.wait({task}, timeout=chk.timeout)
    except asyncio.CancelledError:  # Ctrl-C or the whole-run timeout: the check may clean up, within grace
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
        raise
    if not done:
        task.cancel()
        finished, _ = await asyncio.wait({task}, timeout=grace)
        abandoned = "" if finished else f"; abandoned: its cleanup did not finish within {grace:g} s"
        result = errored(f"timed out after {chk.timeout:.1f} s{abandoned}")
    else:
        try:
            result = task.result()
            if not isinstance(result, Result):
                result = errored(f"check returned {type(result).__name__}, not a Result")
        except (Exception, asyncio.CancelledError) as exc:
            result = errored(_one_line(exc), traceback=traceback.format_exc())
    return _stamp(result, chk, time.perf_counter() - start)


def _stamp(result: Result, chk: Check, duration: float) -> Result:
    """The result as the run keeps it: the check's identity, its findings' full codes ("LK205.wrong-secret"),
    the status its findings give (an error becomes a finding too, so the diagnosis sees one kind of thing)."""
    findings = tuple(f.replace(code=_qualified(f.code, chk.id)) for f in result.findings)
    status = result.status
    if status is Status.ERROR:
        findings = (finding(f"{chk.id}.error", Severity.FAIL, result.summary),)
    elif status in (Status.NOTE, Status.WARN, Status.FAIL) and not findings:  # a plugin's bare Result(FAIL, ...)
        findings = (finding(f"{chk.id}.{status.value}", Severity(status.value), result.summary),)
    elif status is not Status.SKIP:
        status = worst_status(findings)
    return result.replace(
        status=status,
        findings=findings,
        check_id=chk.id,
        title=chk.title,
        area=chk.area,
        plugin=chk.plugin,
        docs=chk.docs_ref,
        duration=duration,
        layer=chk.layer,
    )


def _qualified(code: str, check_id: str) -> str:
    return code if code.startswith(check_id + ".") else f"{check_id}.{code}"


def _blocked(chk: Check, ctx: Context, selected: set[str]) -> Result | None:
    """A skip naming the first need that did not pass (its consequence, for the diagnosis), or None."""
    for need in chk.needs:
        if need not in selected:
            return skipped(f"skipped: needs {need}, which is not selected")
        if need not in ctx.results:  # still running (a speculative check asks early)
            continue
        status = ctx.results[need].status
        if status in (Status.FAIL, Status.ERROR, Status.SKIP):
            why = "was skipped" if status is Status.SKIP else status.value + "ed"
            return skipped(f"skipped: {need} {why}", caused_by=(need,))
    return None


def link_causes(results: list[Result], checks: Sequence[Check]) -> list[Result]:
    """Add to each problem finding's `caused_by` the declared causes of its code that occurred in this run
    as problems (a note, hygiene, explains nothing)."""
    occurred = {f.code for r in results for f in r.problems}
    declared = {name: c.explained_by for chk in checks for name, c in chk.code_names.items()}
    return [r.replace(findings=tuple(_linked(f, declared.get(f.code, ()), occurred) for f in r.findings))
            if r.problems else r for r in results]


def _linked(found: Finding, causes: tuple[str, ...], occurred: set[str]) -> Finding:
    extra = tuple(c for c in causes if c in occurred and c not in found.caused_by and c != found.code)
    return found.replace(caused_by=found.caused_by + extra) if extra and found.is_problem else found


async def run_checks(
    checks: Sequence[Check],
    ctx: Context,
    *,
    on_result: OnResult | None = None,
    timeout: float | None = None,
    grace: float = CLEANUP_GRACE,
) -> Run:
    """Start every check as soon as its needs are done; report each result as it lands."""
    run = Run(started_at=time.time())
    start = time.perf_counter()
    selected = {c.id for c in checks}
    by_id = {c.id: c for c in checks}
    done: dict[str, asyncio.Event] = {c.id: asyncio.Event() for c in checks}
    ctx._settled = done

    async def runner(chk: Check) -> None:
        if chk.speculative and chk.needs:
            result = await _speculate(chk, ctx, selected, done, grace)
        else:
            for need in (*chk.needs, *chk.after):  # `after` only orders: its result never skips this check
                if need in done:
                    await done[need].wait()
            blocked = _blocked(chk, ctx, selected)
            result = _stamp(blocked, chk, 0.0) if blocked else await run_check(chk, ctx, grace)
        ctx.results[chk.id] = result
        done[chk.id].set()
        if on_result is not None:
            on_result(result)

    tasks = {asyncio.create_task(runner(c), name=c.id): c.id for c in checks}
    try:
        _, pending = await asyncio.wait(tasks, timeout=timeout) if tasks else (set(), set())
        if pending:
            run.timed_out = True
            await _cancel(pending, grace)
    except asyncio.CancelledError:  # Ctrl-C: let checks clean up (finally blocks), keep what finished
        run.interrupted = True
        current = asyncio.current_task()
        if current is not None:
            current.uncancel()
        try:
            await _cancel([t for t in tasks if not t.done()], grace)
        except asyncio.CancelledError:  # a second Ctrl-C: stop waiting for cleanups, keep what finished
            if current is not None:
                current.uncancel()
    for task, cid in tasks.items():
        if cid not in ctx.results:
            why = "interrupted" if run.interrupted else f"run timed out after {timeout:.1f} s"
            waited = [n for n in (*by_id[cid].needs, *by_id[cid].after) if n in done and not done[n].is_set()]
            ctx.results[cid] = _stamp(  # a check that never started did not break: it was not run
                skipped(f"not run: {'the run was interrupted' if run.interrupted else 'the ' + why} while it waited "
                        f"for {', '.join(waited)}")
                if waited and not by_id[cid].speculative else errored(why), by_id[cid], time.perf_counter() - start)
            if on_result is not None:  # shown like every other result, not only in the report
                on_result(ctx.results[cid])
    run.results = link_causes([ctx.results[c.id] for c in checks], checks)
    run.duration = time.perf_counter() - start
    return run


async def _speculate(chk: Check, ctx: Context, selected: set[str], done: dict[str, asyncio.Event],
                     grace: float) -> Result:
    """Run the check while its needs run. As soon as one of them does not pass, cancel it (it cleans
    up); once all are done, report the usual skip, or its result after its afters too."""
    task = asyncio.ensure_future(run_check(chk, ctx, grace))
    waits = {asyncio.ensure_future(done[n].wait()) for n in chk.needs if n in done}
    try:
        while waits:
            _, waits = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if not task.done() and _blocked(chk, ctx, selected):
                task.cancel()
        blocked = _blocked(chk, ctx, selected)
        if blocked is not None:
            task.cancel()
            await asyncio.wait({task}, timeout=grace)
            return _stamp(blocked, chk, 0.0)
        for after in chk.after:
            if after in done:
                await done[after].wait()
        return await task
    except asyncio.CancelledError:  # Ctrl-C or the run's timeout
        for waiter in waits:
            waiter.cancel()
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
        raise


async def _cancel(tasks: Sequence[asyncio.Task[None]] | set[asyncio.Task[None]], grace: float) -> None:
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks, timeout=grace)


def run_blocking(
    checks: Sequence[Check],
    ctx: Context,
    *,
    on_result: OnResult | None = None,
    timeout: float | None = None,
    grace: float = CLEANUP_GRACE,
) -> Run:
    """run_checks on a fresh event loop: asyncio.run without its unbounded waits.

    asyncio.run waits without limit, at its end, for every task to finish cancelling; a check
    that ignores cancellation would keep the doctor from exiting after its results were
    reported. The first Ctrl-C cancels the run (checks clean up and what finished is kept); a
    second one stops waiting for their cleanups, still returning the run (its verdict and snapshot
    survive); a third raises KeyboardInterrupt.
    """
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(_unless_abandoned)
    main = loop.create_task(run_checks(checks, ctx, on_result=on_result, timeout=timeout, grace=grace))
    hurry: list[asyncio.Task[Any]] = [main]  # what a further Ctrl-C cancels: the run, then the final wait
    restore_sigint = _cancel_on_sigint(loop, hurry)
    try:
        return loop.run_until_complete(main)
    finally:
        try:
            leftovers = asyncio.all_tasks(loop)
            for task in leftovers:
                task.cancel()
            shutdown = loop.create_task(loop.shutdown_asyncgens())
            final = loop.create_task(asyncio.wait({*leftovers, shutdown}, timeout=grace))
            hurry[0] = final
            try:
                loop.run_until_complete(final)
            except asyncio.CancelledError:  # Ctrl-C again: the leftovers are abandoned
                pass
        finally:
            restore_sigint()
            loop.close()


def _cancel_on_sigint(loop: asyncio.AbstractEventLoop, hurry: list[asyncio.Task[Any]]) -> Callable[[], None]:
    if threading.current_thread() is not threading.main_thread() or (
        signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        return lambda: None
    interrupts = 0

    def on_sigint(signum: int, frame: object) -> None:
        nonlocal interrupts
        interrupts += 1
        if interrupts <= 2:
            if not hurry[0].done():
                hurry[0].cancel()
                loop.call_soon_threadsafe(lambda: None)  # wake the loop if it is waiting
            return
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_sigint)
    return lambda: signal.signal(signal.SIGINT, signal.default_int_handler)


def _unless_abandoned(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """An abandoned check's task is reported in its result, not again when it is collected."""
    if str(context.get("message", "")).startswith("Task was destroyed but it is pending"):
        return
    loop.default_exception_handler(context)
