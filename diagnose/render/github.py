"""GitHub Actions workflow commands: `::error`/`::warning` annotations for problems.

See https://docs.github.com/actions/reference/workflow-commands-for-github-actions.
"""

from __future__ import annotations

from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import Result, Status

COMMAND = {Status.FAIL: "error", Status.ERROR: "error", Status.WARN: "warning"}


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def annotations(result: Result, consequence_of: str | None = None) -> list[str]:
    """One annotation per finding: error/warning for problems, a notice for notes and for a
    consequence of another problem (naming its cause, so the cause is what CI shows first)."""
    lines = []
    for found in result.findings:
        title = _prop(f"{found.code} {result.title}")
        command = "notice" if consequence_of or not found.is_problem else COMMAND[found.severity.status]
        summary = f"consequence of {consequence_of}: {found.message}" if consequence_of else found.message
        message = _data(summary + (f"\nfix: {found.fix}" if found.fix and not consequence_of else ""))
        if not found.locations:
            lines.append(f"::{command} title={title}::{message}")
        for loc in found.locations:
            where = f"file={_prop(loc.path)}" + (f",line={loc.line}" if loc.line else "") + (
                f",col={loc.column}" if loc.column else "")
            lines.append(f"::{command} {where},title={title}::{_data(loc.message or summary)}")
    return lines


def render(doc: RunDocument) -> str:
    return "".join(line + "\n" for result in doc.results for line in annotations(result, doc.diagnosis.root_of(result)))
