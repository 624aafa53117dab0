"""The one way the checks make HTTP clients: --net-timeout and --ca-file applied everywhere.

A check that built its own session would verify TLS against a different trust store than the
others (LK403 passing behind a private CA while LK205 failed) or wait longer than asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from livekit_doctor.checks.plumbing.config.target import net_timeout, ssl_context
from livekit_doctor.plugin import Context, import_off_loop

if TYPE_CHECKING:
    import aiohttp


async def client_session(ctx: Context, *, total: float | None | Literal["net"] = "net") -> "aiohttp.ClientSession":
    """An aiohttp session whose requests time out after `total` (default --net-timeout; None: no limit,
    for a session whose calls set their own) and trust --ca-file.

    aiohttp is imported off the event loop first, so concurrent checks' timings stay honest.
    Use it as `async with await client_session(ctx) as session:`.
    """
    await import_off_loop("aiohttp")
    import aiohttp

    timeout = aiohttp.ClientTimeout(total=net_timeout(ctx) if total == "net" else total)
    return aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(ssl=ssl_context(ctx)))
