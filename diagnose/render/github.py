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
    """Error/warning annotations; a consequence of another problem is only a notice naming its cause."""
    command = "notice" if consequence_of and result.status in COMMAND else COMMAND.get(result.status)
    if command is None:
        return []
    title = _prop(f"{result.check_id} {result.title}")
    summary = f"consequence of {consequence_of}: {result.summary}" if consequence_of else result.summary
    message = _data(summary + (f"\nfix: {result.fix}" if result.fix and not consequence_of else ""))
    if not result.locations:
        return [f"::{command} title={title}::{message}"]
    lines = []
    for loc in result.locations:
        where = f"file={_prop(loc.path)}" + (f",line={loc.line}" if loc.line else "") + (f",col={loc.column}" if loc.column else "")
        lines.append(f"::{command} {where},title={title}::{_data(loc.message or summary)}")
    return lines


def render(doc: RunDocument) -> str:
    consequence_of = doc.diagnosis.consequence_of
    return "".join(line + "\n" for result in doc.results
                   for line in annotations(result, consequence_of.get(result.check_id)))
