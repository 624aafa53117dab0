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


def annotations(result: Result) -> list[str]:
    command = COMMAND.get(result.status)
    if command is None:
        return []
    title = _prop(f"{result.check_id} {result.title}")
    message = _data(result.summary + (f"\nfix: {result.fix}" if result.fix else ""))
    if not result.locations:
        return [f"::{command} title={title}::{message}"]
    lines = []
    for loc in result.locations:
        where = f"file={_prop(loc.path)}" + (f",line={loc.line}" if loc.line else "") + (f",col={loc.column}" if loc.column else "")
        lines.append(f"::{command} {where},title={title}::{_data(loc.message or result.summary)}")
    return lines


def render(doc: RunDocument) -> str:
    return "".join(line + "\n" for result in doc.results for line in annotations(result))
