"""The terminal view: one line per check, the fix under each problem, then the verdict."""

from __future__ import annotations

import json

import click

from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import Result, Status

LABEL = {
    Status.PASS: ("PASS", "green"),
    Status.WARN: ("WARN", "yellow"),
    Status.FAIL: ("FAIL", "red"),
    Status.SKIP: ("SKIP", "bright_black"),
    Status.ERROR: ("ERROR", "magenta"),
}


def _indent(text: str, prefix: str = "        ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def result_block(result: Result, *, verbose: bool = False, color: bool = False) -> str:
    """The line for one result, followed by its fix (problems only) and, verbose, its details."""
    label, fg = LABEL[result.status]
    mark = click.style(f"{label:<5}", fg=fg, bold=True) if color else f"{label:<5}"
    line = f"{mark} {result.check_id:<6} {result.title}: {result.summary} ({result.duration * 1000:.0f} ms)"
    lines = [line]
    for loc in result.locations:
        where = f"{loc.path}:{loc.line}:{loc.column}" if loc.line else loc.path
        lines.append(_indent(f"{where} {loc.message}".rstrip()))
    if result.status in (Status.FAIL, Status.WARN, Status.ERROR) and result.fix:
        lines.append(_indent("fix: " + result.fix))
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
    by_id = {r.check_id: r for r in doc.results}
    lines = ["Diagnosis (fix the first root cause first):"]
    for n, cause in enumerate(diagnosis.root_causes, 1):
        root = by_id[cause.check_id]
        lines.append(f"  {n}. {LABEL[root.status][0]} {_titled(root)}: {root.summary}")
        if root.fix:
            lines.append(_indent("fix: " + root.fix, "     "))
        if cause.consequences:
            lines.append("     explains: " + "; ".join(f"{_titled(by_id[c])} ({by_id[c].status.value})"
                                                      for c in cause.consequences))
        if cause.skipped:
            lines.append("     skipped because of it: " + ", ".join(cause.skipped))
    for cid in diagnosis.independent:
        r = by_id[cid]
        lines.append(f"  also: {LABEL[r.status][0]} {_titled(r)}: {r.summary}")
    return "\n".join(lines)


def footer(doc: RunDocument) -> str:
    tail = " (interrupted)" if doc.interrupted else " (run timed out)" if doc.timed_out else ""
    block = diagnosis_block(doc)
    return ("\n" + block + "\n" if block else "") + f"\n{doc.verdict} in {doc.duration:.2f} s{tail}"
