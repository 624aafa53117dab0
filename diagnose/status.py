"""One updating status line for long work (a large scan, agent turns, several network paths).

Only on a terminal: when the stream is piped, in CI, or with TERM=dumb it prints nothing, so logs
and reports stay clean. Checks reach it through `ctx.progress(text)`, from any thread.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Mapping

MIN_INTERVAL = 0.1  # seconds between redraws: a file-by-file caller must not flood the terminal


def live_terminal(stream: Any, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    ci = env.get("CI", "").lower() in ("1", "true", "yes")
    return bool(getattr(stream, "isatty", lambda: False)()) and not ci and env.get("TERM") != "dumb"


class StatusLine:
    def __init__(self, stream: Any, env: Mapping[str, str] | None = None) -> None:
        self.stream, self.enabled = stream, live_terminal(stream, env)
        self._lock = threading.Lock()
        self._last = 0.0
        self._shown = False
        self._text, self._dim = "", False

    def show(self, text: str, *, force: bool = False, dim: bool = False) -> None:
        """Replace the line with `text` (cut to the terminal's width); throttled unless `force`."""
        if not self.enabled:
            return
        with self._lock:
            now = time.monotonic()
            if not force and now - self._last < MIN_INTERVAL:
                return
            self._last = now
            self._text, self._dim = text, dim
            self._draw()

    def print(self, text: str) -> None:
        """Write a line of output above the status line (which is drawn again under it)."""
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
            self.stream.write(text + "\n")
            if self._shown:
                self._draw()
            self.stream.flush()

    def _draw(self) -> None:
        try:
            width = os.get_terminal_size(self.stream.fileno()).columns
        except (OSError, ValueError, AttributeError):
            width = 80
        text = self._text[: max(width - 1, 10)]
        self.stream.write("\r\x1b[K" + (f"\x1b[2m{text}\x1b[0m" if self._dim else text))
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Remove the line, so that the next output starts on a clean one."""
        if not self.enabled:
            return
        with self._lock:
            if self._shown:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._shown = False
