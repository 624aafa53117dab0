"""Scan a project: every Python file parsed once, analysed once."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

from livekit_doctor.checks.codescan.analysis import Finding, analyze
from livekit_doctor.checks.codescan.files import SourceFile, parse, python_files
from livekit_doctor.checks.codescan.knowledge import Knowledge


@dataclass
class ScanReport:
    root: Path
    knowledge: Knowledge
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def scan(root: Path, knowledge: Knowledge | Future[Knowledge], exclude: tuple[str, ...] = ()) -> ScanReport:
    """Parse every file, analyse it against what the installed SDK provides.

    `knowledge` may still be on its way (a Future completed when the SDK probe answers): parsing,
    the bulk of the work, goes on meanwhile and the files parsed so far wait for it.
    """
    if not isinstance(knowledge, Future):
        known: Future[Knowledge] = Future()
        known.set_result(knowledge)
        knowledge = known
    paths, skipped = python_files(root, exclude)
    findings: list[Finding] = []
    files = lines = 0
    waiting: list[SourceFile] = []
    for path in paths:
        parsed = parse(path, root)
        if isinstance(parsed, str):
            skipped.append((path.relative_to(root).as_posix(), parsed))
            continue
        files += 1
        lines += len(parsed.lines)
        waiting.append(parsed)
        if knowledge.done():
            findings += _analyze_all(waiting, knowledge.result())
    findings += _analyze_all(waiting, knowledge.result())  # blocks only if parsing beat the probe
    findings.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    return ScanReport(root, knowledge.result(), findings, files, lines, skipped)


def _analyze_all(sources: list[SourceFile], knowledge: Knowledge) -> list[Finding]:
    findings = [finding for source in sources for finding in analyze(source, knowledge)]
    sources.clear()
    return findings
