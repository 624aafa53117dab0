"""The terminal view: one line per check, the fix under each problem, then the verdict."""

from __future__ import annotations

import json

import click

from livekit_doctor.render.document import RunDocument
from livekit_doctor.diagnosis import findings_by_code
from livekit_doctor.result import Finding, Result, Status

LABEL = {
    Status.PASS: ("PASS", "green"),
    Status.NOTE: ("NOTE", "cyan"),
    Status.WARN: ("WARN", "yellow"),
    Status.FAIL: ("FAIL", "red"),
    Status.SKIP: ("SKIP", "bright_black"),
    Status.ERROR: ("ERROR", "magenta"),
}
EVIDENCE_LINES = 3  # quoted lines per finding in the terminal (every one is in the snapshot)


def _indent(text: str, prefix: str = "        ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def finding_lines(found: Finding, *, alone: bool, prefix: str = "        ") -> list[str]:
    """One finding: its code (and message, unless it is the result's only one), where, evidence, fix."""
    lines = [_indent(f"{found.severity.value} {found.code}" + ("" if alone else f": {found.message}"), prefix)]
    deeper = prefix + "  "
    for loc in found.locations:
        where = f"{loc.path}:{loc.line}:{loc.column}" if loc.line else loc.path
        lines.append(_indent(f"{where} {loc.message}".rstrip(), deeper))
    lines += [_indent("> " + line, deeper) for line in found.evidence[:EVIDENCE_LINES]]
    if found.fix:
        lines.append(_indent("fix: " + found.fix, deeper))
    return lines


def result_block(result: Result, *, verbose: bool = False, color: bool = False) -> str:
    """The line for one result, followed by its findings with their fixes and, verbose, its details."""
    label, fg = LABEL[result.status]
    mark = click.style(f"{label:<5}", fg=fg, bold=True) if color else f"{label:<5}"
    line = f"{mark} {result.check_id:<6} {result.title}: {result.summary} ({result.duration * 1000:.0f} ms)"
    lines = [line]
    shown = [f for f in result.findings if result.status is not Status.ERROR]
    for found in shown:
        lines += finding_lines(found, alone=len(shown) == 1 and found.message == result.summary)
    if verbose:
        if result.details:
            lines.append(_indent(result.details))
        if result.facts:
            lines.append(_indent(json.dumps(result.facts, indent=2, default=str, ensure_ascii=False)))
        if result.traceback:
            lines.append(_indent(result.traceback.rstrip()))
    return "\n".join(lines)


def render(doc: RunDocument) -> str:
    blocks = [f"warning: {w}" for w in doc.warnings]
    blocks += [result_block(r, verbose=doc.verbose) for r in doc.results]
    blocks.append(footer(doc))
    return "\n".join(blocks) + "\n"


def _titled(result: Result) -> str:
    return f"{result.check_id} {result.title}"


def diagnosis_block(doc: RunDocument) -> str:
    """Root causes first, each with its fix and what it explains; then the independent warnings.

    The same text on every run for the same setup: it does not depend on the order checks finished in.
    """
    diagnosis = doc.diagnosis
    if not diagnosis.root_causes and not diagnosis.independent:
        return ""
    found = findings_by_code(doc.results)
    lines = ["Diagnosis (fix the first root cause first):"]
    for n, cause in enumerate(diagnosis.root_causes, 1):
        result, root = found[cause.code]
        lines.append(f"  {n}. {root.severity.value.upper()} {_titled(result)}: {root.message}")
        lines.append(f"     [{root.code}]")
        if root.fix:
            lines.append(_indent("fix: " + root.fix, "     "))
        if cause.consequences:
            lines.append("     explains: " + "; ".join(f"{c} ({found[c][1].severity.value})" for c in cause.consequences))
        if cause.skipped:
            lines.append("     skipped because of it: " + ", ".join(cause.skipped))
    for code in diagnosis.independent:
        result, also = found[code]
        lines.append(f"  also: {also.severity.value.upper()} {_titled(result)}: {also.message} [{code}]")
    return "\n".join(lines)


def footer(doc: RunDocument) -> str:
    tail = " (interrupted)" if doc.interrupted else " (run timed out)" if doc.timed_out else ""
    block = diagnosis_block(doc)
    return ("\n" + block + "\n" if block else "") + f"\n{doc.verdict} in {doc.duration:.2f} s{tail}"
