"""Probe run INSIDE the app's interpreter: does livekit.agents import, and do its plugins?

Executed by path (`python agent_probe.py PROJECT_DIR`) like sdk_probe.py, with the same rules:
standard library only, Python 3.7+, never raises, one JSON line after MARKER on stdout. Plugins
are imported as the worker imports them (on the main thread, after livekit.agents).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import pkgutil
import site
import sys
import time

MARKER = "LIVEKIT_DOCTOR_PROBE "


def error_text(exc: BaseException) -> str:
    return "%s: %s" % (type(exc).__name__, exc)


def try_import(name: str) -> dict:
    start = time.perf_counter()
    try:
        module = importlib.import_module(name)
    except BaseException as exc:  # a broken plugin may raise anything, even SystemExit
        return {"ok": False, "error": error_text(exc), "ms": round((time.perf_counter() - start) * 1000)}
    return {"ok": True, "error": None, "ms": round((time.perf_counter() - start) * 1000),
            "version": getattr(module, "__version__", None)}


def probe(project_dir: str) -> dict:
    here = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.getcwd()) == here:
        del sys.path[0]
    if project_dir:
        sys.path.insert(0, os.path.abspath(project_dir))
    out = {"agents": try_import("livekit.agents"), "plugins": {}}
    try:
        namespace = importlib.import_module("livekit.plugins")
        names = sorted({m.name for m in pkgutil.iter_modules(list(namespace.__path__))})
    except BaseException:
        names = []
    for name in names:
        out["plugins"]["livekit.plugins." + name] = try_import("livekit.plugins." + name)
    out["sys_path"] = list(sys.path)  # what the doctor watches to know when a kept answer is stale
    out["user_site"] = getattr(site, "USER_SITE", None) if getattr(site, "ENABLE_USER_SITE", False) else None
    return out


def main() -> None:
    with contextlib.redirect_stdout(sys.stderr):
        try:
            result = probe(sys.argv[1] if len(sys.argv) > 1 else "")
        except BaseException as exc:
            result = {"probe_exception": error_text(exc)}
    sys.stdout.write(MARKER + json.dumps(result, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
