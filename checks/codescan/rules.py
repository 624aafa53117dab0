"""One rule per ID (like ruff): title, status of a finding, and the fix."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str  # "fail" or "warn"
    fix: str


RULES = {r.id: r for r in (
    Rule("LK301", "Names the installed SDK does not have", "fail",
         "Import what the installed SDK provides: `from livekit import api` then `api.LiveKitAPI`, "
         "`api.AccessToken`, `api.VideoGrants` (livekit-api); RoomServiceClient is the Node/Go name."),
    Rule("LK302", "Coroutine never awaited", "fail",
         "`await` the call (inside `async def`), or hand it to asyncio.create_task/gather."),
    Rule("LK303", "Awaiting something synchronous", "fail",
         "Remove the `await`: AccessToken.to_jwt(), TokenVerifier.verify() and the synchronous package's "
         "methods return plain values."),
    Rule("LK304", "LiveKitAPI constructed outside a coroutine", "fail",
         "Create LiveKitAPI lazily inside async code (first use in an async function) or in the web "
         "framework's lifespan/startup hook; with aiohttp >= 3.10 it raises 'no running event loop' otherwise."),
    Rule("LK305", "LiveKitAPI never closed", "warn",
         "Use `async with api.LiveKitAPI() as lkapi:` or `await lkapi.aclose()` on shutdown "
         "(otherwise aiohttp logs 'Unclosed client session')."),
    Rule("LK306", "Async SDK call from a plain def", "fail",
         "Make the function `async def` (FastAPI/Starlette/aiohttp endpoints can be async) and await the call."),
    Rule("LK307", "asyncio.run where a loop is already running", "fail",
         "Inside `async def`, await the coroutine instead of asyncio.run()/run_until_complete(), which "
         "raise 'cannot be called from a running event loop'."),
    Rule("LK308", "Hard-coded API key or secret", "warn",
         "Read credentials from the environment (LIVEKIT_API_KEY / LIVEKIT_API_SECRET); LiveKitAPI() and "
         "AccessToken() do so when called without them. Rotate a secret that was committed."),
)}
