"""Scan a project: every Python file parsed once, analysed once."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from checks.codescan.analysis import Finding, analyze
from checks.codescan.files import parse, python_files
from checks.codescan.knowledge import Knowledge


@dataclass
class ScanReport:
    root: Path
    knowledge: Knowledge
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    lines: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def scan(root: Path, knowledge: Knowledge, exclude: tuple[str, ...] = ()) -> ScanReport:
    report = ScanReport(root=root, knowledge=knowledge)
    paths, report.skipped = python_files(root, exclude)
    for path in paths:
        parsed = parse(path, root)
        if isinstance(parsed, str):
            report.skipped.append((path.relative_to(root).as_posix(), parsed))
            continue
        report.files += 1
        report.lines += len(parsed.lines)
        report.findings += analyze(parsed, knowledge)
    report.findings.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    return report
