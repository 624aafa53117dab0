"""Which Python runs the app, and the SDK probe run inside it.

The SDK facts must come from the app's interpreter, never the doctor's own: the probe file is
executed there by path and answers with one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Mapping

import click

from livekit_doctor.plugin import Context

PROBE = Path(__file__).resolve().parent / "sdk_probe.py"
PROBE_MARKER = "LIVEKIT_DOCTOR_PROBE "
PROBE_TIMEOUT = 30.0


def python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def choose_interpreter(ctx: Context) -> tuple[str, str]:
    """--python > $VIRTUAL_ENV > .venv/venv in the project > the doctor's own interpreter."""
    flag = ctx.option("python")
    if flag:
        return str(flag), "--python"
    venv = ctx.env.get("VIRTUAL_ENV")
    if venv:
        return str(python_in(Path(venv))), f"active virtualenv ($VIRTUAL_ENV={venv})"
    for name in (".venv", "venv"):
        candidate = python_in(ctx.project_dir / name)
        if candidate.exists():
            return str(candidate), f"{name} in the project directory {ctx.project_dir}"
    return sys.executable, "the doctor's own interpreter (no --python, no $VIRTUAL_ENV, no .venv or venv in the project)"


def validate_python(click_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--python must name a working Python (a venv directory is accepted too); else a usage error."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if path.is_dir():
        path = python_in(path)
    if not path.is_file():
        raise click.BadParameter(f"{value} is not a Python interpreter (no such file)")
    try:
        proc = subprocess.run([str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise click.BadParameter(f"{value} is not a working Python interpreter ({type(exc).__name__}: {exc})")
    version = proc.stdout.strip()
    if proc.returncode != 0 or not version.replace(".", "").isdigit():
        raise click.BadParameter(f"{value} is not a working Python interpreter (exit {proc.returncode})")
    if tuple(map(int, version.split("."))) < (3, 7):
        raise click.BadParameter(f"{value} is Python {version}; the probe needs Python 3.7 or newer")
    return str(path.absolute())


def parse_probe_output(stdout: str) -> dict[str, Any]:
    """The JSON on the last marker line; ValueError when there is none or it is not a JSON object."""
    lines = [line for line in stdout.splitlines() if line.startswith(PROBE_MARKER)]
    if not lines:
        raise ValueError("no result line in its output" + (f": {stdout.strip()[:200]!r}" if stdout.strip() else ""))
    data = json.loads(lines[-1][len(PROBE_MARKER):])
    if not isinstance(data, dict):
        raise ValueError("its result is not a JSON object")
    return data


async def run_probe(python: str, project_dir: Path, env: Mapping[str, str], timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Run sdk_probe.py in `python`; RuntimeError with a one-line reason on any failure."""
    import asyncio  # not at module level: `--help` and `list` load this module

    try:
        proc = await asyncio.create_subprocess_exec(
            python, str(PROBE), str(project_dir),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(project_dir), env=dict(env),
        )
    except OSError as exc:
        raise RuntimeError(f"cannot run {python}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()
        raise RuntimeError(f"the SDK probe did not finish within {timeout:g} s in {python}") from None
    except asyncio.CancelledError:
        proc.kill()
        await proc.wait()
        raise
    out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    if proc.returncode != 0:
        last = err.strip().splitlines()[-1] if err.strip() else "no error output"
        raise RuntimeError(f"the SDK probe exited with code {proc.returncode} in {python}: {last}")
    try:
        return parse_probe_output(out)
    except ValueError as exc:
        raise RuntimeError(f"the SDK probe returned garbage in {python}: {exc}") from None
