"""Where every command's output goes: the one sink for the doctor, `report` and plugin subcommands.

Destinations are checked before any work (a long run must not end in "cannot write"), files
are replaced atomically, and a run's reports are all rendered from one already-redacted document.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

from livekit_doctor.errors import UsageError

if TYPE_CHECKING:
    from livekit_doctor.render.document import RunDocument


class OutputError(UsageError):
    """The destination cannot be written."""


def check_writable(path: Path) -> None:
    try:
        _check_writable(path)
    except OutputError:
        raise
    except (OSError, ValueError) as exc:  # a name too long, a NUL byte: the path itself is unusable
        raise OutputError(f"cannot write {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise OutputError(f"cannot write {path}: directory {parent} does not exist")
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a directory")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OutputError(f"cannot write {path}: permission denied")


def write_atomic(path: Path, text: str) -> None:
    """Write to a temporary file beside `path`, then rename: a killed run leaves no half report.

    Only a regular file (or a new one) is replaced: a device or a pipe (`--output /dev/null`,
    /dev/stdout) is written in place, never renamed over, and a symbolic link's target is replaced,
    not the link."""
    check_writable(path)
    if path.exists() and not path.is_file():
        with open(path, "w", encoding="utf-8", errors="backslashreplace") as fh:
            fh.write(text)
        return
    path = path.resolve() if path.is_symlink() else path
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as fh:  # undecodable names shown
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):  # the disk filled up, the directory went away: one line, not a traceback
            raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise


@dataclass
class Sink:
    """The report in `fmt` to stdout or `output`, plus the side reports that accompany a run."""

    fmt: str = "text"
    output: Path | None = None
    snapshot: Path | None = None
    junit: Path | None = None
    github: bool = False  # running in GitHub Actions: annotations and the step summary
    step_summary: Path | None = None

    def __post_init__(self) -> None:
        for path in (self.output, self.snapshot, self.junit, self.step_summary if self.github else None):
            if path is not None:
                check_writable(path)

    def echo(self, text: str, *, err: bool = False, nl: bool = True) -> None:
        click.echo(text, err=err, nl=nl)

    def report(self, doc: "RunDocument", *, streamed: bool = False) -> None:
        """The main report; `streamed` when the text lines were already printed live (only the footer is left)."""
        from livekit_doctor.render import renderer

        if streamed:
            from livekit_doctor.render.text import footer

            self.echo(footer(doc))
            return
        text = renderer(self.fmt)(doc)
        if self.output is not None:
            write_atomic(self.output, text)
            self.echo(f"{doc.verdict}; {self.fmt} report written to {self.output}", err=self.fmt != "text")
        else:
            self.echo(text, nl=False)

    def side_reports(self, doc: "RunDocument") -> None:
        """Snapshot, JUnit, and in GitHub Actions the annotations (unless the report itself is them) and summary."""
        from livekit_doctor.render import renderer

        if self.junit is not None:
            write_atomic(self.junit, renderer("junit")(doc))
            self.echo(f"JUnit report written to {self.junit}", err=True)
        if self.github:
            if not (self.fmt == "github" and self.output is None):  # already printed as the report
                self.echo(renderer("github")(doc), err=True, nl=False)
            if self.step_summary is not None:
                from livekit_doctor.render import markdown

                with open(self.step_summary, "a", encoding="utf-8") as fh:
                    fh.write(markdown.render(doc, include_run=False) + "\n")
        if self.snapshot is not None:
            write_atomic(self.snapshot, renderer("markdown")(doc))
            self.echo(f"snapshot written to {self.snapshot}", err=True)
