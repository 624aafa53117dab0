"""The SDK probe's answer kept between runs: importing the SDK in the app's interpreter costs
~300-550 ms, and its answer only changes when that interpreter or what it can import does. The
agent probe (livekit.agents and its plugins, 1.7-3.7 s) is kept the same way, keyed by its own source.

An answer is keyed by the interpreter, the project directory, the PYTHON* variables and the probe's
own source, and stays valid while these are unchanged: the interpreter's files (and the venv's
pyvenv.cfg), a `livekit` module or package in the project, and every directory on the probe's
sys.path (the user site too, even before it exists) with the metadata of each distribution in it,
so installing, upgrading or removing any package invalidates it. Failed probes and probes whose
rtc import crashed or hung are never kept. Lives in <cache>/sdk-probe; `--no-cache` bypasses it.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE
from livekit_doctor.plugin import read_entry, write_entry

PART = "sdk-probe"


@lru_cache(maxsize=4)
def _probe_source(probe: Path) -> str:
    return hashlib.sha256(probe.read_bytes()).hexdigest()


def _key(python: str, project_dir: Path, env: Mapping[str, str], probe: Path) -> list[Any]:
    from livekit_doctor import __version__

    python_env = sorted((k, v) for k, v in env.items() if k.startswith("PYTHON"))
    return [__version__, _probe_source(probe), python, str(project_dir), python_env]


def _path(cache_dir: Path, key: list[Any]) -> Path:
    return cache_dir / PART / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".json")


def _watched(python: str, project_dir: Path, data: Mapping[str, Any] | None) -> tuple[list[str], list[str]]:
    interpreter = os.path.abspath(python)
    files = [interpreter, os.path.realpath(interpreter), str(Path(interpreter).parent.parent / "pyvenv.cfg")]
    files += [str(project_dir / name) for name in ("livekit", "livekit.py", os.path.join("livekit", "__init__.py"))]
    if data is None:
        return files, []
    sites = [p for p in data.get("sys_path") or [] if isinstance(p, str) and os.path.abspath(p) != str(project_dir)]
    if isinstance(data.get("user_site"), str) and data["user_site"] not in sites:
        sites.append(data["user_site"])
    return files, sites


def cached_answer(cache_dir: Path, python: str, project_dir: Path, env: Mapping[str, str],
                  probe: Path = PROBE) -> dict[str, Any] | None:
    """The answer `probe` (the SDK probe unless said) gave in this same environment, or None."""
    key = _key(python, project_dir, env, probe)
    value = read_entry(_path(cache_dir, key), key)
    return value if isinstance(value, dict) else None


def keep_answer(cache_dir: Path, python: str, project_dir: Path, env: Mapping[str, str], data: dict[str, Any],
                probe: Path = PROBE) -> None:
    if data.get("probe_exception") or data.get("cacheable") is False or not data.get("sys_path"):
        return
    key = _key(python, project_dir, env, probe)
    files, sites = _watched(python, project_dir, data)
    write_entry(_path(cache_dir, key), key, data, files, sites)
