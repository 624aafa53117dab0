"""Heavy imports done off the event loop.

Importing aiohttp or the LiveKit SDK takes 100-300 ms. Inside an async check that would stall
the loop, every other check on it, and the latencies they measure (a loopback connect showed
150 ms). Imported once in a worker thread, the check's own `import` statements are then free.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any, Callable, TypeVar

T = TypeVar("T")


async def import_off_loop(*modules: str) -> None:
    """Import `modules` in a worker thread; an ImportError is raised here as if imported inline."""
    import asyncio

    missing = [name for name in modules if name not in sys.modules]
    if missing:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in missing])


async def in_daemon_thread(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` on a daemon thread of its own. Not asyncio.to_thread: the interpreter joins the default
    executor's threads at exit, so CPU work abandoned by a timed-out run would keep the process alive."""
    import asyncio
    import contextvars
    import threading

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()

    def settle(value: Any, exc: BaseException | None) -> None:
        if future.done():
            return
        if exc is None:
            future.set_result(value)
        else:
            future.set_exception(exc)

    def work() -> None:
        try:
            value, exc = context.run(func, *args), None
        except BaseException as raised:  # handed to the awaiting coroutine
            value, exc = None, raised
        try:
            loop.call_soon_threadsafe(settle, value, exc)
        except RuntimeError:  # the loop has closed: nobody waits for this any more
            pass

    threading.Thread(target=work, name=getattr(func, "__name__", "work"), daemon=True).start()
    return await future
