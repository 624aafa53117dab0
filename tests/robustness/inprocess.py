"""The doctor's command line run in-process (fast enough for hundreds of inputs), with the invariants
every run must keep: exit 0, 1 or 2, no traceback, no internal error, and a usage error in one line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from livekit_doctor.cli import run

ALLOWED_EXITS = (0, 1, 2)


@dataclass
class Outcome:
    code: int
    out: str
    err: str

    def check(self, args: list[str]) -> "Outcome":
        """Assert the invariants; the failure message names the input."""
        shown = repr(args)[:300]
        both = self.out + self.err
        assert self.code in ALLOWED_EXITS, f"{shown}: exit {self.code}\n{self.err[-2000:]}"
        assert "Traceback (most recent call last)" not in both, f"{shown}: traceback\n{both[-3000:]}"
        assert "internal error" not in self.err, f"{shown}: {self.err[-2000:]}"
        if self.code == 2:
            lines = self.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("livekit-doctor: error: "), f"{shown}: {self.err!r}"
        return self


def environment(home: Path, **extra: str) -> dict[str, str | None]:
    """No LIVEKIT_* or CI variables of the caller's; HOME (the lk CLI's config) under the test's control."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("LIVEKIT_", "GITHUB_", "VIRTUAL_ENV"))}
    env.update({"HOME": str(home), "NO_COLOR": "1", "LIVEKIT_DOCTOR_CACHE": str(home / "cache")})
    env.update(extra)
    return env


def invoke(args: list[str], cwd: Path, *, input: bytes | str | None = None, **env: str) -> Outcome:
    """`livekit-doctor ARGS` in this process, from `cwd` (where a default snapshot would go)."""
    runner = CliRunner()
    previous = Path.cwd()
    os.chdir(cwd)
    try:
        with runner.isolation(input=input, env=environment(cwd, **env)) as (out, err, _):
            code = run(list(args))
            return Outcome(code, out.getvalue().decode("utf-8", "replace"), err.getvalue().decode("utf-8", "replace"))
    finally:
        os.chdir(previous)
