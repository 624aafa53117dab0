"""What every check receives: the resolved options, environment and a per-run cache."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Mapping, TypeVar

from livekit_doctor.errors import UsageError
from livekit_doctor.redact import Redactor
from livekit_doctor.result import Result

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")


@dataclass
class Context:
    project_dir: Path = field(default_factory=Path.cwd)
    options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    redactor: Redactor = field(default_factory=Redactor)
    results: dict[str, Result] = field(default_factory=dict)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _locks: dict[str, "asyncio.Lock"] = field(default_factory=dict, repr=False)
    _thread_locks: dict[str, threading.RLock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

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

    async def amemo(self, key: str, factory: Callable[[], Awaitable[T]]) -> T:
        """Async `memo`: concurrent checks asking for the same key wait for one computation."""
        import asyncio  # not at module top: the CLI must start without loading asyncio

        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            if key not in self._memo:
                self._memo[key] = await factory()
        return self._memo[key]


def make_context(options: Mapping[str, Any], *, env: Mapping[str, str] | None = None) -> Context:
    """The one way to build a run's Context: the CLI, every subcommand and the pytest plugin use it.

    `options` are the command line's values by option name; `project` (default ".") must be a
    directory; `show_tokens` keeps tokens' header and payload in the output.
    """
    project = Path(options.get("project") or ".")
    if not project.is_dir():
        raise UsageError(f"project directory {project} does not exist")
    return Context(project_dir=project.resolve(), options=dict(options),
                   env=dict(os.environ if env is None else env),
                   redactor=Redactor(keep_tokens=bool(options.get("show_tokens"))))
