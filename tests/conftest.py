"""Shared fixtures: the real LiveKit server and a way to run the doctor as a user would."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from livekit_server import LiveKitServer, ServerUnavailable, server_binary  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def livekit_binary() -> Path:
    """The pinned server; in CI its absence fails the run instead of skipping it."""
    try:
        return server_binary()
    except (ServerUnavailable, OSError, subprocess.TimeoutExpired) as exc:
        if IN_CI:
            pytest.fail(f"LiveKit server unavailable in CI: {exc}")
        pytest.skip(f"LiveKit server unavailable (set CI=true to make this a failure): {exc}")


@pytest.fixture(scope="session")
def livekit_server(livekit_binary: Path) -> Iterator[LiveKitServer]:
    """One shared server for tests that only read from it."""
    server = LiveKitServer(livekit_binary)
    try:
        server.start()
    except ServerUnavailable as exc:
        pytest.fail(str(exc))
    yield server
    server.stop()


@pytest.fixture
def start_server(livekit_binary: Path) -> Iterator[Callable[..., LiveKitServer]]:
    """Factory for servers with their own config (auto-create off, another node IP ...); all stopped after."""
    started: list[LiveKitServer] = []

    def start(**kwargs: object) -> LiveKitServer:
        server = LiveKitServer(livekit_binary, **kwargs)  # type: ignore[arg-type]
        started.append(server)
        try:
            return server.start()
        except ServerUnavailable as exc:
            pytest.fail(str(exc))

    yield start
    for server in started:
        server.stop()


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without LIVEKIT_* or CI-platform variables, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LIVEKIT_", "GITHUB_"))}
    env["NO_COLOR"] = "1"
    env.update(extra)
    return env


@pytest.fixture
def run_doctor(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run `python -m livekit_doctor ARGS` in a subprocess, as a user would, from tmp_path by default."""

    def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "livekit_doctor", *args],
            capture_output=True,
            text=True,
            env=env if env is not None else clean_env(),
            cwd=cwd or tmp_path,
            timeout=timeout,
            input=input,
        )

    return run


FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def plugin_site(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """pip-install a fixture plugin package (tests/fixtures/NAME) into its own directory, once."""
    installed: dict[str, Path] = {}

    def install(name: str) -> Path:
        if name not in installed:
            target = tmp_path_factory.mktemp(f"site-{name}")
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                 "--target", str(target), str(FIXTURES / name)],
                check=True, capture_output=True, text=True, timeout=300,
            )
            installed[name] = target
        return installed[name]

    return install


def env_with_plugins(*sites: Path, **extra: str) -> dict[str, str]:
    """clean_env with the given plugin directories importable (their entry points found)."""
    return clean_env(PYTHONPATH=os.pathsep.join([*map(str, sites), os.environ.get("PYTHONPATH", "")]), **extra)


# The gallery's variations are drawn with this seed (tests/integration/test_gallery.py): fixed here, once per
# session, and printed, so that a failure can be replayed with GALLERY_SEED=<n>.
os.environ.setdefault("GALLERY_SEED", str(random.SystemRandom().randrange(1_000_000)))


def pytest_report_header(config: pytest.Config) -> str:
    return (f"gallery variations: GALLERY_SEED={os.environ['GALLERY_SEED']} "
            "(GALLERY_VARIATIONS=all runs every case under every variation)")


def fix_of(result: dict) -> str:
    """The fix of a JSON result's worst finding (what the text output shows first under it)."""
    order = {"note": 0, "warn": 1, "fail": 2}
    worst = max(result.get("findings", []), key=lambda f: order[f["severity"]], default=None)
    return worst["fix"] if worst else ""


def codes_of(result: dict) -> list[str]:
    return [f["code"] for f in result.get("findings", [])]
