"""Does livekit.agents import in the app's interpreter (LK601): agent_probe.py run there, once per doctor run,
its answer kept between runs (probe_cache.py: until the interpreter or an installed distribution changes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from livekit_doctor.checks.plumbing.sdk import probe_cache
from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE_TIMEOUT, choose_interpreter, run_probe
from livekit_doctor.plugin import Context


def app_python(ctx: Context) -> str:
    return choose_interpreter(ctx)[0]


async def agent_probe(ctx: Context) -> dict[str, Any]:
    """livekit.agents and its plugins imported in the app's interpreter, once per run; the answer is kept
    between runs (probe_cache.py: until the interpreter or an installed distribution changes)."""

    probe = Path(__file__).resolve().parent / "agent_probe.py"

    async def run() -> dict[str, Any]:
        python, cache = app_python(ctx), ctx.cache_dir
        kept = probe_cache.cached_answer(cache, python, ctx.project_dir, ctx.env, probe) if cache else None
        if kept is not None:
            return kept | {"kept": True}
        try:
            data = await run_probe(python, ctx.project_dir, ctx.env, PROBE_TIMEOUT, probe=probe)
        except RuntimeError as exc:
            return {"probe_exception": str(exc)}
        if cache:
            probe_cache.keep_answer(cache, python, ctx.project_dir, ctx.env, data, probe)
        return data

    return await ctx.amemo("agent.probe", run)
