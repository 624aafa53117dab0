"""LK101-LK104: which LiveKit server SDK the application's interpreter really imports, and how it is shaped.

The facts come from the SDK probe run by the app's interpreter (plumbing/sdk/sdk_shape.py); these
checks only judge them.
"""

from __future__ import annotations

from typing import Any

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE_TIMEOUT
from livekit_doctor.checks.plumbing.sdk.interpreter import python_option
from livekit_doctor.checks.plumbing.sdk.sdk_shape import (
    BOTH, LIVEKIT_DISTS, NAMES, NONE, RTC_ONLY, THIRD_PARTY, THIRD_PARTY_DIST, SdkShape, at_least,
    installed_sdk, known_bad_combinations, requirement_problems,
)
from livekit_doctor.plugin import (Context, Result, Severity, check, code, errored, failed, finding, judged, passed,
                                   skipped, warned)


def _where(shape: SdkShape) -> str:
    return f"{shape.interpreter} ({shape.interpreter_reason})"


PROBE_ADVICE = ("Check that the interpreter runs and that importing `livekit` there neither hangs nor exits; "
                "point --python at the interpreter that runs the app.")


def _probe_failed(shape: SdkShape) -> Result:
    """The checks could not look (an `error`, not a finding about the setup): what to try goes in the details."""
    return errored(
        f"could not inspect the SDK: {shape.probe_error}",
        details=f"interpreter: {_where(shape)}\n{PROBE_ADVICE}",
        facts={"interpreter": shape.interpreter, "interpreter_reason": shape.interpreter_reason},
    )


def _pip(shape: SdkShape, args: str) -> str:
    return f"{shape.interpreter} -m pip {args}"


def _base_facts(shape: SdkShape) -> dict[str, Any]:
    return {"interpreter": shape.interpreter, "interpreter_reason": shape.interpreter_reason,
            "python_version": shape.python_version, "family": shape.family}


@check("LK101", "Official server SDK importable", area=Area.SDK, timeout=PROBE_TIMEOUT + 10, codes=(
    code("not-installed", "no LiveKit package at all is installed in the app's interpreter"),
    code("rtc-only", "only the realtime package `livekit` is installed: `from livekit import api` fails; the server "
                     "SDK is the separate distribution livekit-api"),
    code("third-party-only", "the official server SDK is not installed; `livekit` is the third-party synchronous "
                             "package (livekit-server-sdk-python)"),
    code("shadowed", "livekit-api is installed but `livekit` resolves to a file or folder that hides it",
         explained_by=("LK102.shadowed-by-file", "LK102.both-families")),
    code("requirements-not-met", "livekit-api is installed but does not import because the versions beside it break "
                                 "its requirements", explained_by=("LK104.requirements-not-met",)),
    code("import-fails", "livekit-api is installed but this release does not import on this Python"),
))
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
        summary = f"livekit-api {version} is installed but `import livekit.api` fails: {shape.api_error}"
        evidence = (shape.api_error,) if shape.api_error else ()
        if shape.livekit_file:
            return failed(summary, code="shadowed", evidence=evidence, facts=facts,
                          fix=f"`livekit` resolves to {shape.livekit_file}, which hides the installed package: rename "
                              "or remove it (a project file or folder named livekit, or a package shipping "
                              "livekit/__init__.py).")
        if requirement_problems(shape):  # LK104 reports the broken requirements: they are the cause
            return failed(summary, code="requirements-not-met", evidence=evidence, facts=facts,
                          caused_by=("LK104.requirements-not-met",),
                          fix=f"Its requirements are not met (see LK104): `{_pip(shape, 'install -U livekit-api')}` "
                              "resolves them.")
        return failed(summary, code="import-fails", evidence=evidence, facts=facts,
                      fix=f"This release does not import on Python {shape.python_version}: install one that does, "
                          f"`{_pip(shape, 'install -U livekit-api')}`.")
    install = f"Install the official server SDK: `{_pip(shape, 'install livekit-api')}`."
    if shape.family == THIRD_PARTY:
        return warned(
            "the official server SDK (livekit-api) is not installed; `livekit` is the third-party synchronous "
            f"package ({shape.livekit_file})", code="third-party-only",
            details="`from livekit import api` fails: " + (shape.api_error or "no livekit.api"),
            fix=install + " See LK102 about the third-party package.", facts=facts)
    if shape.family == RTC_ONLY:
        return failed(
            f"only the livekit rtc package ({shape.versions.get('livekit')}) is installed: "
            "`from livekit import api` fails (cannot import name 'api' from 'livekit'); the server SDK is the "
            "separate distribution livekit-api", code="rtc-only", fix=install, facts=facts)
    return failed(f"no LiveKit package is installed in {shape.interpreter}", code="not-installed",
                  details=f"interpreter chosen: {shape.interpreter_reason}",
                  fix=install + " Or point --python at the app's interpreter.", facts=facts)


@check("LK102", "SDK import shape", area=Area.SDK, timeout=PROBE_TIMEOUT + 10, codes=(
    code("both-families", "the official SDK and the third-party synchronous package are both installed: "
                          "`from livekit import ...` gives one, `from livekit import api` the other"),
    code("shadowed-by-file", "`livekit` resolves to a regular module or package (a project file or folder named "
                             "livekit, or a distribution shipping livekit/__init__.py) that hides LiveKit's "
                             "namespace packages"),
    code("third-party-package", "`livekit` is the third-party synchronous package: no LiveKitAPI, calls are not "
                                "awaited"),
    code("no-livekitapi", "the installed livekit-api predates LiveKitAPI (added in 0.2.0)",
         explained_by=("LK104.predates-livekitapi",)),
))
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
            code="both-families", facts=facts,
            fix=f"Keep one: `{_pip(shape, 'uninstall ' + ' '.join(third_dists))}` and use "
            "`livekit.api.LiveKitAPI` (recommended), or uninstall livekit-api.")
    if shape.livekit_file and shape.family != THIRD_PARTY:
        return failed(
            f"`livekit` resolves to {shape.livekit_file}, which shadows the installed LiveKit packages"
            + (f" ({', '.join('livekit.' + s for s in shape.shadowed)})" if shape.shadowed else ""),
            code="shadowed-by-file", evidence=(f"livekit.__file__ = {shape.livekit_file}",),
            fix="Rename the file or folder named livekit in the project (or the package that ships "
            "livekit/__init__.py): LiveKit's packages are namespace packages and must not have one.", facts=facts)
    if shape.family == THIRD_PARTY:
        hidden = f"; it hides {', '.join('livekit.' + s for s in shape.shadowed)}" if shape.shadowed else ""
        return warned(
            f"`livekit` is the third-party synchronous package ({', '.join(third_dists)}): "
            f"{', '.join(present)}; no LiveKitAPI{hidden}", code="third-party-package",
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
            f"only {', '.join(present)}", code="no-livekitapi", facts=facts,
            fix=f"Upgrade: `{_pip(shape, 'install -U livekit-api')}`.")
    return passed(f"official SDK: {', '.join(present)} from livekit.api; no RoomServiceClient (not part of it)",
                  facts=facts)


def _say(method: str, how: str) -> str:
    if how == "async":
        return f"{method} is async (await it)"
    if method.startswith("RoomServiceClient."):
        return f"{method} is synchronous (do not await; call it off the event loop)"
    return f"{method} is synchronous (do not await)"


@check("LK103", "SDK async/sync signatures", area=Area.SDK, timeout=PROBE_TIMEOUT + 10, codes=(
    code("mixed-conventions", "two SDKs with opposite conventions are installed: the livekit.api services are "
                              "awaited, RoomServiceClient's calls are not", explained_by=("LK102.both-families",)),
))
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
        return warned(summary, code="mixed-conventions", details=details, facts=facts,
                      fix="Two SDKs with opposite conventions are installed (see LK102): await the livekit.api "
                      "services, never RoomServiceClient.")
    return passed(summary, details=details, facts=facts)


@check("LK104", "SDK version compatibility", area=Area.SDK, timeout=PROBE_TIMEOUT + 10, codes=(
    code("aiohttp-rejects-timeout", "the installed livekit-api passes LiveKitAPI's timeout to aiohttp as a plain "
                                    "number, which the installed aiohttp (>= 3.9) refuses: every LiveKitAPI() raises"),
    code("requirements-not-met", "an installed LiveKit distribution's own requirements are broken by the versions "
                                 "installed beside it"),
    code("predates-livekitapi", "the installed livekit-api predates LiveKitAPI (added in 0.2.0)"),
))
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
    clashes, problems = known_bad_combinations(shape), requirement_problems(shape)
    facts["problems"] = clashes + problems
    found = [finding("aiohttp-rejects-timeout", Severity.FAIL, clash,
                     fix=f"Upgrade livekit-api (its later releases pass an aiohttp.ClientTimeout): "
                         f"`{_pip(shape, 'install -U livekit-api')}`; or pin `aiohttp<3.9` for this old release.")
             for clash in clashes]
    if problems:
        upgrade = " ".join(d for d in LIVEKIT_DISTS if shape.versions.get(d))
        found.append(finding("requirements-not-met", Severity.FAIL, "; ".join(problems), evidence=problems,
                             fix=f"Let pip resolve them together: `{_pip(shape, 'install -U ' + upgrade)}`."))
    api_version = shape.versions.get("livekit-api")
    if not found and api_version and not at_least(api_version, "0.2.0"):
        found.append(finding("predates-livekitapi", Severity.WARN,
                             f"livekit-api {api_version} predates LiveKitAPI (added in 0.2.0)",
                             fix=f"Upgrade: `{_pip(shape, 'install -U livekit-api')}`."))
    if found:
        return judged(found, details=listing, facts=facts)
    note = ""
    if shape.aiohttp_needs_running_loop and shape.names.get("LiveKitAPI"):
        note = (f"; aiohttp {shape.versions.get('aiohttp')} (>= 3.10): construct LiveKitAPI inside a running "
                "event loop (in an async function), else RuntimeError: no running event loop")
    return passed(f"requirements satisfied: {listing}{note}", facts=facts)


CHECKS = [official_sdk, import_shape, signatures, versions]
OPTIONS = [python_option()]
