"""Verdict line and exit codes, shared by every renderer and the CLI."""

from __future__ import annotations

from typing import Iterable

from livekit_doctor.result import Result, Status

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_INTERNAL, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
FAIL_ON = {"warn": Status.WARN.severity, "fail": Status.FAIL.severity}


def counts(results: Iterable[Result]) -> dict[Status, int]:
    out = {status: 0 for status in Status}
    for result in results:
        out[result.status] += 1
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def verdict(results: Iterable[Result]) -> str:
    """'2 problems, 1 warning, 1 note, 9 passed' (errors count as problems: the check could not tell)."""
    c = counts(results)
    parts = []
    problems = c[Status.FAIL] + c[Status.ERROR]
    if problems:
        parts.append(_plural(problems, "problem"))
    if c[Status.WARN]:
        parts.append(_plural(c[Status.WARN], "warning"))
    if c[Status.NOTE]:
        parts.append(_plural(c[Status.NOTE], "note"))
    parts.append(f"{c[Status.PASS]} passed")
    if c[Status.SKIP]:
        parts.append(f"{c[Status.SKIP]} skipped")
    return ", ".join(parts)


def exit_code(results: Iterable[Result], fail_on: str = "fail") -> int:
    threshold = FAIL_ON[fail_on]
    return EXIT_PROBLEMS if any(r.status.severity >= threshold for r in results) else EXIT_OK
