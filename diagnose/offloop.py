"""Heavy imports done off the event loop.

Importing aiohttp or the LiveKit SDK takes 100-300 ms. Inside an async check that would stall
the loop, every other check on it, and the latencies they measure (a loopback connect showed
150 ms). Imported once in a worker thread, the check's own `import` statements are then free.
"""

from __future__ import annotations

import importlib
import sys


async def import_off_loop(*modules: str) -> None:
    """Import `modules` in a worker thread; an ImportError is raised here as if imported inline."""
    import asyncio

    missing = [name for name in modules if name not in sys.modules]
    if missing:
        await asyncio.to_thread(lambda: [importlib.import_module(name) for name in missing])
