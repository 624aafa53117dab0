"""LK1xx: which LiveKit server SDK the application's interpreter really imports, and how it is shaped.

Two contradictory "fixes" circulate: "RoomServiceClient does not exist, await every call" (the
official `livekit-api`) and "the room service is synchronous, drop the awaits" (the third-party
`livekit-server-sdk-python`, whose regular `livekit/__init__.py` takes over the `livekit`
namespace). Which one is right depends on what is installed where the app runs, so the facts come
from `sdk_probe.py` executed by that interpreter, never from the doctor's own environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import click

from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.result import Result, errored, failed, passed, skipped, warned

from livekit_doctor.checks import DOCS_DIR

PROBE = Path(__file__).resolve().parent / "sdk_probe.py"
PROBE_MARKER = "LIVEKIT_DOCTOR_PROBE "
PROBE_TIMEOUT = 30.0
OFFICIAL, THIRD_PARTY, BOTH, RTC_ONLY, NONE = "official", "third-party-sync", "both", "rtc-only", "none"
THIRD_PARTY_DIST = "livekit-server-sdk-python"
NAMES = ("LiveKitAPI", "RoomService", "RoomServiceClient", "AccessToken", "VideoGrants", "VideoGrant",
         "TokenVerifier", "ServerError", "TwirpError")


@dataclass(frozen=True)
class SdkShape:
    """What the target interpreter imports as `livekit`: plain data, built from the probe's JSON."""

    family: str = NONE  # official | third-party-sync | both | rtc-only | none
    winner: str | None = None  # the family `from livekit import ...` resolves to
    names: dict[str, bool] = field(default_factory=dict)  # name -> importable from livekit.api / livekit
    methods: dict[str, str] = field(default_factory=dict)  # "room.create_room" -> "async" | "sync"
    rtc: bool = False
    versions: dict[str, str | None] = field(default_factory=dict)
    aiohttp_needs_running_loop: bool = False
    interpreter: str = ""
    interpreter_reason: str = ""
    probe_error: str | None = None
    python_version: str | None = None
    api_importable: bool = False
    api_error: str | None = None  # why `import livekit.api` failed
    rtc_error: str | None = None
    livekit_file: str | None = None  # the regular livekit/__init__.py (or livekit.py) that won, else None
    livekit_path: list[str] = field(default_factory=list)  # livekit.__path__ in the target
    shadowed: list[str] = field(default_factory=list)  # official packages on sys.path hidden by livekit_file
    owners: dict[str, list[str]] = field(default_factory=dict)  # distribution -> what it installs under livekit/
    requires: dict[str, list[str]] = field(default_factory=dict)  # distribution -> its Requires-Dist
    markers: dict[str, str] = field(default_factory=dict)  # the target's environment markers

    @property
    def ok(self) -> bool:
        return self.probe_error is None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_probe(cls, data: Mapping[str, Any], interpreter: str = "", interpreter_reason: str = "") -> "SdkShape":
        """Judge the probe's raw findings: families, winner, shadowing. Pure, so tests can feed it dicts."""
        versions = dict(data.get("versions") or {})
        imports = data.get("imports") or {}
        top = data.get("livekit") or {}
        names = {name: bool((data.get("names") or {}).get(name)) for name in NAMES}
        api_ok = bool((imports.get("api") or {}).get("ok"))
        rtc_ok = bool((imports.get("rtc") or {}).get("ok"))
        regular = None if top.get("namespace") else top.get("file")
        third_party = bool(regular) and (data.get("name_sources") or {}).get("RoomServiceClient") == "livekit"
        official = api_ok or bool(versions.get("livekit-api"))
        family = (BOTH if official and third_party else OFFICIAL if official else THIRD_PARTY if third_party
                  else RTC_ONLY if rtc_ok or versions.get("livekit") else NONE)
        winner = {BOTH: THIRD_PARTY, OFFICIAL: OFFICIAL, THIRD_PARTY: THIRD_PARTY}.get(family)
        aiohttp = versions.get("aiohttp")
        return cls(
            family=family,
            winner=winner,
            names=names,
            methods=dict(data.get("methods") or {}),
            rtc=rtc_ok,
            versions=versions,
            aiohttp_needs_running_loop=bool(aiohttp) and _at_least(aiohttp, "3.10"),
            interpreter=interpreter,
            interpreter_reason=interpreter_reason,
            probe_error=data.get("probe_exception"),
            python_version=(data.get("python") or {}).get("version"),
            api_importable=api_ok,
            api_error=(imports.get("api") or {}).get("error"),
            rtc_error=(imports.get("rtc") or {}).get("error"),
            livekit_file=regular,
            livekit_path=list(top.get("path") or []),
            shadowed=_shadowed(data.get("candidates") or [], regular),
            owners={k: list(v) for k, v in (data.get("owners") or {}).items()},
            requires={k: list(v) for k, v in (data.get("requires") or {}).items()},
            markers=dict(data.get("markers") or {}),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SdkShape":
        """Inverse of `to_dict` (e.g. LK103's facts["sdk"] read back from a JSON report)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def failure(cls, reason: str, interpreter: str = "", interpreter_reason: str = "") -> "SdkShape":
        return cls(probe_error=reason, interpreter=interpreter, interpreter_reason=interpreter_reason)


def _at_least(version: str, minimum: str) -> bool:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(version) >= Version(minimum)
    except InvalidVersion:
        return False


def _shadowed(candidates: list[dict[str, Any]], regular: str | None) -> list[str]:
    """Official subpackages that sit in another sys.path entry than the regular `livekit` that won."""
    if not regular:
        return []
    winner_dir = os.path.dirname(regular) if regular.endswith("__init__.py") else None
    hidden: set[str] = set()
    for cand in candidates:
        if cand.get("kind") == "namespace" and cand.get("path") != winner_dir:
            hidden.update(s for s in cand.get("subpackages", []) if s in ("api", "rtc", "protocol", "agents"))
    return sorted(hidden)


# --- which interpreter -------------------------------------------------------------------------

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


# --- the probe ---------------------------------------------------------------------------------

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


async def probe_shape(python: str, reason: str, project_dir: Path, env: Mapping[str, str],
                      timeout: float = PROBE_TIMEOUT) -> SdkShape:
    try:
        data = await run_probe(python, project_dir, env, timeout)
    except RuntimeError as exc:
        return SdkShape.failure(str(exc), python, reason)
    return SdkShape.from_probe(data, python, reason)


async def installed_sdk(ctx: Context) -> SdkShape:
    """The run's SDK shape: the probe runs once, every LK1xx check (and the code scan) shares it."""
    python, reason = choose_interpreter(ctx)
    return await ctx.amemo("sdk.shape", lambda: probe_shape(python, reason, ctx.project_dir, ctx.env))


# --- the checks --------------------------------------------------------------------------------

def _where(shape: SdkShape) -> str:
    return f"{shape.interpreter} ({shape.interpreter_reason})"


def _probe_failed(shape: SdkShape) -> Result:
    return errored(
        f"could not inspect the SDK: {shape.probe_error}",
        details=f"interpreter: {_where(shape)}",
        fix="Check that the interpreter runs and that importing `livekit` there neither hangs nor exits; "
        "point --python at the interpreter that runs the app.",
        facts={"interpreter": shape.interpreter, "interpreter_reason": shape.interpreter_reason},
    )


def _pip(shape: SdkShape, args: str) -> str:
    return f"{shape.interpreter} -m pip {args}"


def _base_facts(shape: SdkShape) -> dict[str, Any]:
    return {"interpreter": shape.interpreter, "interpreter_reason": shape.interpreter_reason,
            "python_version": shape.python_version, "family": shape.family}


@check("LK101", "Official server SDK importable", area="sdk", timeout=PROBE_TIMEOUT + 10)
async def official_sdk(ctx: Context) -> Result:
    """Whether `from livekit import api` works in the app's interpreter, and if not, why."""
    shape = await installed_sdk(ctx)
    if not shape.ok:
        return _probe_failed(shape)
    version = shape.versions.get("livekit-api")
    facts = {**_base_facts(shape), "livekit-api": version, "api_error": shape.api_error}
    if shape.api_importable:
        return passed(f"livekit.api imports (livekit-api {version}) in {shape.interpreter}",
                      details=f"interpreter chosen: {shape.interpreter_reason}", facts=facts)
    if version:
        if shape.livekit_file:
            fix = (f"`livekit` resolves to {shape.livekit_file}, which hides the installed package: rename or "
                   "remove it (a project file or folder named livekit, or a package shipping livekit/__init__.py).")
        elif requirement_problems(shape):
            fix = f"Its requirements are not met (see LK104): `{_pip(shape, 'install -U livekit-api')}` resolves them."
        else:
            fix = (f"This release does not import on Python {shape.python_version}: install one that does, "
                   f"`{_pip(shape, 'install -U livekit-api')}`.")
        return failed(f"livekit-api {version} is installed but `import livekit.api` fails: {shape.api_error}",
                      fix=fix, facts=facts)
    install = f"Install the official server SDK: `{_pip(shape, 'install livekit-api')}`."
    if shape.family == THIRD_PARTY:
        return warned(
            "the official server SDK (livekit-api) is not installed; `livekit` is the third-party synchronous "
            f"package ({shape.livekit_file})",
            details="`from livekit import api` fails: " + (shape.api_error or "no livekit.api"),
            fix=install + " See LK102 about the third-party package.", facts=facts)
    if shape.family == RTC_ONLY:
        return failed(
            f"only the livekit rtc package ({shape.versions.get('livekit')}) is installed: "
            "`from livekit import api` fails (cannot import name 'api' from 'livekit'); the server SDK is the "
            "separate distribution livekit-api", fix=install, facts=facts)
    return failed(f"no LiveKit package is installed in {shape.interpreter}", details=f"interpreter chosen: "
                  f"{shape.interpreter_reason}", fix=install + " Or point --python at the app's interpreter.",
                  facts=facts)


@check("LK102", "SDK import shape", area="sdk", timeout=PROBE_TIMEOUT + 10)
async def import_shape(ctx: Context) -> Result:
    """LiveKitAPI vs RoomServiceClient, shadowing of the `livekit` namespace, both SDK families at once."""
    shape = await installed_sdk(ctx)
    if not shape.ok:
        return _probe_failed(shape)
    present = [n for n in NAMES if shape.names.get(n)]
    facts = {**_base_facts(shape), "winner": shape.winner, "names": shape.names, "livekit_file": shape.livekit_file,
             "livekit_path": shape.livekit_path, "shadowed": shape.shadowed, "owners": shape.owners}
    third_dists = [d for d, parts in shape.owners.items() if "livekit/__init__.py" in parts] or [THIRD_PARTY_DIST]
    if shape.family == BOTH:
        api_state = ("still imports (same directory)" if shape.api_importable
                     else f"is hidden: {shape.api_error}")
        return failed(
            f"both SDK families are installed: `from livekit import ...` resolves to the third-party synchronous "
            f"package ({', '.join(third_dists)}, {shape.livekit_file}); livekit.api {api_state}",
            details="`from livekit import RoomServiceClient, AccessToken, VideoGrant` gives the synchronous "
            "third-party classes while `from livekit import api` gives the official async SDK: code and "
            "advice written for one breaks with the other.",
            fix=f"Keep one: `{_pip(shape, 'uninstall ' + ' '.join(third_dists))}` and use "
            "`livekit.api.LiveKitAPI` (recommended), or uninstall livekit-api.", facts=facts)
    if shape.livekit_file and shape.family != THIRD_PARTY:
        return failed(
            f"`livekit` resolves to {shape.livekit_file}, which shadows the installed LiveKit packages"
            + (f" ({', '.join('livekit.' + s for s in shape.shadowed)})" if shape.shadowed else ""),
            fix="Rename the file or folder named livekit in the project (or the package that ships "
            "livekit/__init__.py): LiveKit's packages are namespace packages and must not have one.", facts=facts)
    if shape.family == THIRD_PARTY:
        hidden = f"; it hides {', '.join('livekit.' + s for s in shape.shadowed)}" if shape.shadowed else ""
        return warned(
            f"`livekit` is the third-party synchronous package ({', '.join(third_dists)}): "
            f"{', '.join(present)}; no LiveKitAPI{hidden}",
            details=f"{shape.livekit_file} is a regular package, so livekit.api and livekit.rtc cannot come from "
            "another directory. RoomServiceClient exists only in this package, not in LiveKit's Python SDK.",
            fix="Code for this package must not await its calls. To use LiveKit's own SDK instead: "
            f"`{_pip(shape, 'uninstall ' + ' '.join(third_dists))}` then `{_pip(shape, 'install livekit-api')}`.",
            facts=facts)
    if shape.family in (NONE, RTC_ONLY):
        return skipped("no server SDK is installed (see LK101)", facts=facts)
    if not shape.api_importable:
        return skipped("livekit.api does not import (see LK101)", facts=facts)
    if not shape.names.get("LiveKitAPI"):
        return warned(
            f"livekit-api {shape.versions.get('livekit-api')} has no LiveKitAPI (added in 0.2.0): "
            f"only {', '.join(present)}", fix=f"Upgrade: `{_pip(shape, 'install -U livekit-api')}`.", facts=facts)
    return passed(f"official SDK: {', '.join(present)} from livekit.api; no RoomServiceClient (not part of it)",
                  facts=facts)


def _say(method: str, how: str) -> str:
    if how == "async":
        return f"{method} is async (await it)"
    if method.startswith("RoomServiceClient."):
        return f"{method} is synchronous (do not await; call it off the event loop)"
    return f"{method} is synchronous (do not await)"


@check("LK103", "SDK async/sync signatures", area="sdk", timeout=PROBE_TIMEOUT + 10)
async def signatures(ctx: Context) -> Result:
    """Which installed server-API methods are coroutines and which are plain calls."""
    shape = await installed_sdk(ctx)
    facts = {**_base_facts(shape), "sdk": shape.to_dict()}
    if not shape.ok:
        return _probe_failed(shape).replace(facts=facts)
    if not shape.methods:
        return skipped("no server SDK methods to inspect (see LK101)", facts=facts)
    headline = [m for m in ("room.create_room", "RoomServiceClient.create_room", "AccessToken.to_jwt",
                            "TokenVerifier.verify") if m in shape.methods]
    summary = "; ".join(_say(m, shape.methods[m]) for m in headline)
    groups = {how: sorted(m for m, h in shape.methods.items() if h == how) for how in ("async", "sync")}
    details = "\n".join(f"{'async (await)' if how == 'async' else 'synchronous (no await)'}: {', '.join(ms)}"
                        for how, ms in groups.items() if ms)
    if shape.family == BOTH:
        return warned(summary, details=details, facts=facts,
                      fix="Two SDKs with opposite conventions are installed (see LK102): await the livekit.api "
                      "services, never RoomServiceClient.")
    return passed(summary, details=details, facts=facts)


LIVEKIT_DISTS = ("livekit-api", "livekit-protocol", "livekit", "livekit-agents")


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def requirement_problems(shape: SdkShape) -> list[str]:
    """Each requirement of an installed LiveKit distribution that the installed versions break."""
    from packaging.requirements import InvalidRequirement, Requirement

    installed = {_canonical(k): v for k, v in shape.versions.items() if v}
    problems = []
    for dist in LIVEKIT_DISTS:
        version = shape.versions.get(dist)
        if not version:
            continue
        for text in shape.requires.get(dist, []):
            try:
                req = Requirement(text)
            except InvalidRequirement:
                continue
            if req.marker is not None and not req.marker.evaluate({**shape.markers, "extra": ""}):
                continue
            name = _canonical(req.name)
            if name not in {_canonical(d) for d in shape.versions}:
                continue  # only the distributions the probe looked at
            have = installed.get(name)
            if have is None:
                problems.append(f"{dist} {version} requires {req.name}{req.specifier}, which is not installed")
            elif req.specifier and not req.specifier.contains(have, prereleases=True):
                problems.append(f"{dist} {version} requires {req.name}{req.specifier}, installed {have}")
    return problems


@check("LK104", "SDK version compatibility", area="sdk", timeout=PROBE_TIMEOUT + 10)
async def versions(ctx: Context) -> Result:
    """livekit-api vs livekit-protocol vs protobuf, judged from the distributions' own requirements."""
    shape = await installed_sdk(ctx)
    if not shape.ok:
        return _probe_failed(shape)
    shown = {k: v for k, v in shape.versions.items() if v}
    facts = {**_base_facts(shape), "versions": shape.versions,
             "aiohttp_needs_running_loop": shape.aiohttp_needs_running_loop}
    if not any(shape.versions.get(d) for d in LIVEKIT_DISTS):
        return skipped(f"none of {', '.join(LIVEKIT_DISTS)} is installed (see LK101)", facts=facts)
    listing = ", ".join(f"{k} {v}" for k, v in shown.items())
    problems = requirement_problems(shape)
    facts["problems"] = problems
    if problems:
        return failed("; ".join(problems), details=listing, facts=facts,
                      fix=f"Let pip resolve them together: `{_pip(shape, 'install -U ' + ' '.join(d for d in LIVEKIT_DISTS if shape.versions.get(d)))}`.")
    api_version = shape.versions.get("livekit-api")
    if api_version and not _at_least(api_version, "0.2.0"):
        return warned(f"livekit-api {api_version} predates LiveKitAPI (added in 0.2.0)", details=listing,
                      facts=facts, fix=f"Upgrade: `{_pip(shape, 'install -U livekit-api')}`.")
    note = ""
    if shape.aiohttp_needs_running_loop and shape.names.get("LiveKitAPI"):
        note = (f"; aiohttp {shape.versions.get('aiohttp')} (>= 3.10): construct LiveKitAPI inside a running "
                "event loop (in an async function), else RuntimeError: no running event loop")
    return passed(f"requirements satisfied: {listing}{note}", facts=facts)


OPTIONS = [
    click.Option(["--python", "python"], metavar="PATH", callback=validate_python, expose_value=True,
                 help="Interpreter (or virtualenv) that runs the app, for the LK1xx checks "
                 "(default: $VIRTUAL_ENV, else .venv/venv in --project, else the doctor's own)."),
]

CHECKS = [official_sdk, import_shape, signatures, versions]
