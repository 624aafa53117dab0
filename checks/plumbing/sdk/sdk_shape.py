"""The shape of the LiveKit server SDK the app's interpreter imports, judged from the probe's facts.

Two contradictory "fixes" circulate: "RoomServiceClient does not exist, await every call" (the
official `livekit-api`) and "the room service is synchronous, drop the awaits" (the third-party
`livekit-server-sdk-python`, whose regular `livekit/__init__.py` takes over the `livekit`
namespace). Which one is right depends on what is installed where the app runs; the LK1xx
checks and the code scan share this one judgement.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE_TIMEOUT, choose_interpreter, run_probe
from livekit_doctor.plugin import Context

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
    api_timeout_default: str | None = None  # type name of LiveKitAPI(timeout=...)'s default, e.g. "int"

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
            aiohttp_needs_running_loop=bool(aiohttp) and at_least(aiohttp, "3.10"),
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
            api_timeout_default=data.get("api_timeout_default"),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "SdkShape":
        """Inverse of `to_dict` (e.g. LK103's facts["sdk"] read back from a JSON report)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    @classmethod
    def failure(cls, reason: str, interpreter: str = "", interpreter_reason: str = "") -> "SdkShape":
        return cls(probe_error=reason, interpreter=interpreter, interpreter_reason=interpreter_reason)


def at_least(version: str, minimum: str) -> bool:
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


async def probe_shape(python: str, reason: str, project_dir: Path, env: Mapping[str, str],
                      timeout: float = PROBE_TIMEOUT, cache_dir: Path | None = None) -> SdkShape:
    """The probe's answer judged; with `cache_dir`, an answer kept from an earlier run in the same
    environment is used (probe_cache.py says what "the same" covers) and a new one is kept."""
    from livekit_doctor.checks.plumbing.sdk import probe_cache

    data = probe_cache.cached_answer(cache_dir, python, project_dir, env) if cache_dir else None
    if data is None:
        try:
            data = await run_probe(python, project_dir, env, timeout)
        except RuntimeError as exc:
            return SdkShape.failure(str(exc), python, reason)
        if cache_dir:
            probe_cache.keep_answer(cache_dir, python, project_dir, env, data)
    return SdkShape.from_probe(data, python, reason)


async def installed_sdk(ctx: Context) -> SdkShape:
    """The run's SDK shape: the probe runs once, every LK1xx check (and the code scan) shares it."""
    python, reason = choose_interpreter(ctx)
    return await ctx.amemo("sdk.shape", lambda: probe_shape(python, reason, ctx.project_dir, ctx.env,
                                                              cache_dir=ctx.cache_dir))


LIVEKIT_DISTS = ("livekit-api", "livekit-protocol", "livekit", "livekit-agents")


def _canonical(name: str) -> str:
    from packaging.utils import canonicalize_name

    return canonicalize_name(name)


def known_bad_combinations(shape: SdkShape) -> list[str]:
    """Releases whose own requirements allow a partner that breaks them (pip cannot see these)."""
    problems = []
    aiohttp, api = shape.versions.get("aiohttp"), shape.versions.get("livekit-api")
    if api and aiohttp and shape.api_timeout_default in ("int", "float") and at_least(aiohttp, "3.9"):
        problems.append(f"livekit-api {api} passes LiveKitAPI's timeout to aiohttp as a plain number, which "
                        f"aiohttp {aiohttp} (>= 3.9) refuses: every LiveKitAPI() raises \"ValueError: timeout parameter "
                        f"cannot be of <class '{shape.api_timeout_default}'> type\"")
    return problems


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
