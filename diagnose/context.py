"""What every check receives: the resolved options, environment and a per-run cache."""

from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterator, Mapping, TypeVar

from livekit_doctor import PRODUCT
from livekit_doctor.cache import cache_root
from livekit_doctor.errors import UsageError
from livekit_doctor.product import Product
from livekit_doctor.redact import Redactor
from livekit_doctor.result import Result

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
SWITCH_WHILE_MEASURING = 0.0002  # s: a thread mid-way through CPU work hands the GIL back this soon


@dataclass
class Context:
    project_dir: Path = field(default_factory=Path.cwd)
    options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    redactor: Redactor = field(default_factory=Redactor)
    results: dict[str, Result] = field(default_factory=dict)
    cache_dir: Path | None = None  # where answers are kept between runs; None: keep nothing (--no-cache)
    # Long work says where it is ("code scan: 120/953 files"): one status line on a terminal, else nothing.
    progress: Callable[[str], None] = field(default=lambda text: None, repr=False)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _locks: dict[str, "asyncio.Lock"] = field(default_factory=dict, repr=False)
    _thread_locks: dict[str, threading.RLock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _settled: dict[str, "asyncio.Event"] = field(default_factory=dict, repr=False)  # set by the runner
    _quiet: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _measuring: int = field(default=0, repr=False)
    _collecting: bool = field(default=True, repr=False)  # whether gc was on when the first measurement began
    _switch: float = field(default=0.005, repr=False)  # the GIL's switch interval then

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        """Around a timed step (a latency the report shows): CPU-heavy work in other threads holds off
        meanwhile (`wait_for_quiet`), and so does the garbage collector (a large scan's objects make a
        full collection last tens of milliseconds). Either would otherwise be measured as network latency."""
        with self._quiet:
            self._measuring += 1
            if self._measuring == 1:
                self._collecting, self._switch = gc.isenabled(), sys.getswitchinterval()
                gc.disable()
                sys.setswitchinterval(SWITCH_WHILE_MEASURING)
        try:
            yield
        finally:
            with self._quiet:
                self._measuring -= 1
                if self._measuring == 0:
                    sys.setswitchinterval(self._switch)
                    if self._collecting:
                        gc.enable()
                self._quiet.notify_all()

    def wait_for_quiet(self, limit: float = 2.0) -> None:
        """Called by CPU-heavy work between its units (in a worker thread): wait while a measurement is
        open, at most `limit` seconds, so that a stuck measurement slows the work but never stalls it."""
        with self._quiet:
            self._quiet.wait_for(lambda: self._measuring == 0, timeout=limit)

    def option(self, name: str, default: Any = None) -> Any:
        value = self.options.get(name)
        return default if value is None else value

    def memo(self, key: str, factory: Callable[[], T]) -> T:
        """Compute a value once per run and share it between checks (e.g. resolved credentials).

        Sync checks run in worker threads, so the first caller computes while the others wait.
        """
        with self._guard:
            lock = self._thread_locks.setdefault(key, threading.RLock())
        with lock:
            if key not in self._memo:
                self._memo[key] = factory()
            return self._memo[key]

    async def settled(self, *check_ids: str) -> None:
        """Wait until these checks of the run have their result (for a speculative check, whose needs
        may still be running); IDs not in the run are ignored."""
        for check_id in check_ids:
            event = self._settled.get(check_id)
            if event is not None:
                await event.wait()

    async def amemo(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        """Async `memo`: concurrent checks asking for the same key wait for one computation."""
        import asyncio  # not at module top: the CLI must start without loading asyncio

        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._memo:
                self._memo[key] = await factory()
        return self._memo[key]


def make_context(options: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
                 product: Product = PRODUCT) -> Context:
    """The one way to build a run's Context: the CLI, every subcommand and the pytest plugin use it.

    `options` are the command line's values by option name; `project` (default ".") must be a
    directory; `show_tokens` keeps tokens' header and payload in the output; `no_cache` leaves the
    product's cache directory alone (nothing read, nothing written).
    """
    project = Path(options.get("project") or ".")
    try:
        usable = project.is_dir()
    except (OSError, ValueError):  # a name too long for the file system
        usable = False
    if not usable:
        raise UsageError(f"project directory {project} does not exist")
    env = dict(os.environ if env is None else env)
    return Context(project_dir=project.resolve(), options=dict(options), env=env,
                   redactor=Redactor(keep_tokens=bool(options.get("show_tokens"))),
                   cache_dir=None if options.get("no_cache") else cache_root(product, env))
