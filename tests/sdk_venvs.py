"""Throwaway virtualenvs holding real LiveKit SDK releases, for the LK1xx tests.

Each is built once with `python -m venv` + pip and cached under
~/.cache/livekit-doctor/sdk-venvs/<name>-<hash of its spec>; a changed spec builds a new one.
`python tests/sdk_venvs.py` builds them all ahead of a test run (in parallel).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
THIRD_PARTY = HERE / "fixtures" / "third_party_sdk"
CACHE = Path(os.environ.get("LIVEKIT_DOCTOR_CACHE", Path.home() / ".cache" / "livekit-doctor")) / "sdk-venvs"

# name -> pip requirements ("{third_party}" is the local stand-in distribution's path); an entry starting
# with "--no-deps" is installed afterwards on its own, to break a requirement the way users do by hand
SPECS: dict[str, tuple[str, ...]] = {
    "none": (),
    "api-0.1.0": ("livekit-api==0.1.0",),
    "api-0.1.1": ("livekit-api==0.1.1",),
    "api-0.2.0": ("livekit-api==0.2.0",),
    "api-0.8": ("livekit-api==0.8.*",),
    "api-1.0": ("livekit-api==1.0.*",),
    "api-newest": ("livekit-api",),
    "rtc-only": ("livekit",),
    "third-party": ("{third_party}",),
    "third-party+api": ("{third_party}", "livekit-api"),
    "protocol-mismatch": ("livekit-api==1.2.2", "--no-deps livekit-protocol==1.1.17"),
    # voice agents (LK6xx): the newest release and an older 1.x, each running the test agents
    "agents-newest": ("livekit-agents",),
    "agents-1.2": ("livekit-agents==1.2.*", "httpx"),
    # as pip installs it today: its inference module imports httpx, which openai >= 3 no longer brings
    "agents-1.2-no-httpx": ("livekit-agents==1.2.*",),
}


class VenvBuildError(RuntimeError):
    pass


def _fingerprint(name: str) -> str:
    text = "\n".join(SPECS[name])
    if "{third_party}" in text:  # rebuild when the stand-in's sources change
        for path in sorted(THIRD_PARTY.rglob("*")):
            if path.is_file() and "egg-info" not in str(path) and "build" not in path.parts:
                text += path.read_text(encoding="utf-8")
    return hashlib.sha256(f"{sys.version_info[:2]}\n{text}".encode()).hexdigest()[:10]


def venv_dir(name: str) -> Path:
    return CACHE / f"{name}-{_fingerprint(name)}"


def python_of(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv(name: str) -> Path:
    """The venv's python, building the venv first if it is not cached yet."""
    target = venv_dir(name)
    if (target / ".complete").is_file():
        return python_of(target)
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.parent.mkdir(parents=True, exist_ok=True)
    try:
        _run([sys.executable, "-m", "venv", str(building)])
        reqs = [r.format(third_party=THIRD_PARTY) for r in SPECS[name]]
        pip = [str(python_of(building)), "-m", "pip", "install", "--disable-pip-version-check", "-q"]
        together = [r for r in reqs if not r.startswith("--no-deps")]
        if together:
            _run([*pip, *together])
        for forced in (r for r in reqs if r.startswith("--no-deps")):
            _run([*pip, *forced.split()])
        (building / ".complete").write_text("\n".join(reqs), encoding="utf-8")
        # venvs hard-code their own path in scripts but not in python itself; rename keeps `python` working
        try:
            building.rename(target)
        except OSError:  # another process finished the same venv first
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return python_of(target)


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise VenvBuildError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


def ensure_all(names: list[str] | None = None, workers: int = 3) -> dict[str, Path]:
    names = names or list(SPECS)
    with ThreadPoolExecutor(workers) as pool:
        return dict(zip(names, pool.map(ensure_venv, names)))


if __name__ == "__main__":
    for venv_name, python in ensure_all(sys.argv[1:] or None).items():
        print(f"{venv_name}: {python}")
