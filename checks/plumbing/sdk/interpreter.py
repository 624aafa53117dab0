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

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.plugin import Context

PROBE = Path(__file__).resolve().parent / "sdk_probe.py"
PROBE_MARKER = "LIVEKIT_DOCTOR_PROBE "
PROBE_TIMEOUT = 30.0


def python_in(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def choose_interpreter(ctx: Context) -> tuple[str, str]:
    """--python > $VIRTUAL_ENV > .venv/venv in the project > the doctor's own interpreter."""
    flag = wing_options(ctx).python
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


def python_option() -> click.Option:
    """--python: the interpreter whose SDK decides what is right (the doctor and the scan and fix commands)."""
    return click.Option(["--python", "python"], metavar="PATH", callback=validate_python,
                        help="Interpreter (or virtualenv) that runs the app, whose SDK decides what is right "
                             "(default: $VIRTUAL_ENV, else .venv/venv in the project, else the doctor's own).")


def validate_python(click_ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--python must name a working Python (a venv directory is accepted too); else a usage error."""
    if value is None:
        return None
    path = Path(value).expanduser()
    try:
        if path.is_dir():
            path = python_in(path)
        found = path.is_file()
    except (OSError, ValueError) as exc:  # a name too long for the file system
        raise click.BadParameter(f"{value} is not a Python interpreter ({getattr(exc, 'strerror', None) or exc})")
    if not found:
        raise click.BadParameter(f"{value} is not a Python interpreter (no such file)")
    try:
        returncode, version = _version_of(path, timeout=15)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise click.BadParameter(f"{value} is not a working Python interpreter ({type(exc).__name__}: {exc})")
    if returncode != 0 or not version.replace(".", "").isdigit():
        raise click.BadParameter(f"{value} is not a working Python interpreter (exit {returncode})")
    if tuple(map(int, version.split("."))) < (3, 7):
        raise click.BadParameter(f"{value} is Python {version}; the probe needs Python 3.7 or newer")
    return str(path.absolute())


def _version_of(path: Path, timeout: float) -> tuple[int, str]:
    """(exit code, 'X.Y') of an interpreter, in its own process group: a wrapper script whose child keeps
    stdout open is killed with that child when the time is up (subprocess.run would wait for end-of-file)."""
    proc = subprocess.Popen([str(path), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=os.name == "posix")
    try:
        proc.wait(timeout)  # the few bytes it prints fit the pipe
    except BaseException:  # the timeout, or Ctrl-C: its own session does not get the signal, so end it here
        kill_group(proc.pid)
        proc.kill()
        proc.communicate()
        raise
    try:
        out, _ = proc.communicate(timeout=1.0)
    except subprocess.TimeoutExpired:  # exited, but a child it left holds stdout
        kill_group(proc.pid)
        out, _ = proc.communicate()
    return proc.returncode, out.strip()


def kill_group(pid: int) -> None:
    """SIGKILL the process group `pid` leads (the probe and whatever it started); gone already is fine."""
    if os.name != "posix":
        return
    import signal

    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


async def _exited(proc: Any, timeout: float) -> bool:
    """Whether the process exits within `timeout`. Not proc.wait(): it also waits for every pipe to close,
    which a child the probe left behind (a wrapper script's) can hold open for ever."""
    import asyncio

    deadline = asyncio.get_running_loop().time() + timeout
    while proc.returncode is None:
        if asyncio.get_running_loop().time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _pump(stream: Any, into: bytearray) -> None:
    """Collect a pipe as it arrives: what was read survives a cancelled or abandoned read."""
    while chunk := await stream.read(65536):
        into += chunk


async def _end(proc: Any) -> None:
    """Kill the probe's whole process group (a wrapper's child may hold its pipes) and reap it, bounded."""
    import asyncio

    kill_group(proc.pid)
    try:
        proc.kill()
    except ProcessLookupError:
        pass
    try:
        await asyncio.wait_for(asyncio.shield(proc.wait()), 5)
    except (asyncio.TimeoutError, asyncio.CancelledError):
        pass


def parse_probe_output(stdout: str) -> dict[str, Any]:
    """The JSON on the last marker line; ValueError when there is none or it is not a JSON object."""
    lines = [line for line in stdout.splitlines() if line.startswith(PROBE_MARKER)]
    if not lines:
        raise ValueError("no result line in its output" + (f": {stdout.strip()[:200]!r}" if stdout.strip() else ""))
    data = json.loads(lines[-1][len(PROBE_MARKER):])
    if not isinstance(data, dict):
        raise ValueError("its result is not a JSON object")
    return data


async def run_probe(python: str, project_dir: Path, env: Mapping[str, str], timeout: float = PROBE_TIMEOUT,
                    probe: Path = PROBE) -> dict[str, Any]:
    """Run sdk_probe.py in `python`; RuntimeError with a one-line reason on any failure."""
    import asyncio  # not at module level: `--help` and `list` load this module

    try:
        proc = await asyncio.create_subprocess_exec(
            python, str(probe), str(project_dir),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            cwd=str(project_dir), env=dict(env),
            start_new_session=os.name == "posix",  # Ctrl-C reaches the doctor only; the group is killed as one
        )
    except OSError as exc:
        raise RuntimeError(f"cannot run {python}: {exc.strerror or exc}") from None
    stdout, stderr = bytearray(), bytearray()
    pumps = {asyncio.ensure_future(_pump(proc.stdout, stdout)), asyncio.ensure_future(_pump(proc.stderr, stderr))}
    try:
        exited = await _exited(proc, timeout)
        if exited:  # the answer is written before exit: a child left holding the pipes gets a moment, then dies
            _, holding = await asyncio.wait(pumps, timeout=1.0)
            if holding:
                kill_group(proc.pid)
    except asyncio.CancelledError:
        await _end(proc)
        raise
    finally:
        for pump in pumps:
            pump.cancel()
    if not exited:
        await _end(proc)
        raise RuntimeError(f"the SDK probe did not finish within {timeout:g} s in {python}")
    out, err = stdout.decode(errors="replace"), stderr.decode(errors="replace")
    if proc.returncode != 0:
        last = err.strip().splitlines()[-1] if err.strip() else "no error output"
        raise RuntimeError(f"the SDK probe exited with code {proc.returncode} in {python}: {last}")
    try:
        return parse_probe_output(out)
    except ValueError as exc:
        raise RuntimeError(f"the SDK probe returned garbage in {python}: {exc}") from None
