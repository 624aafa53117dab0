"""What fix mode produces, as plain data: per file the rewrite and its changes, and the guidance left
for a person (the fixes that are not safe to apply mechanically)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import libcst as cst

    from livekit_doctor.checks.codescan.facts import Finding
    from livekit_doctor.checks.codescan.knowledge import Knowledge
    from livekit_doctor.checks.fixes.source import Source


@dataclass(frozen=True)
class Guidance:
    """A finding left to a person: where, what, and what to do."""

    rule: str
    path: str
    line: int
    col: int
    message: str
    advice: str


@dataclass(frozen=True)
class Change:
    """One applied fix as the snapshot records it: the rule(s), the line, the lines before and after."""

    path: str
    rules: tuple[str, ...]
    title: str
    line: int
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass
class FileFix:
    path: str  # relative to the project
    before: str
    after: str
    changes: list[Change] = field(default_factory=list)
    data: bytes = b""  # what is written (the rewrite in the file's own encoding)
    backup: str | None = None  # the name of a backup written beside it first (the .env)
    absolute: Path | None = None  # where it is, when not under the project (an --env-file elsewhere)


@dataclass
class FileContext:
    """What the planners share about one file: its tree, its findings, the SDK, and the names to use."""

    source: "Source"
    findings: list["Finding"]
    sdk: "Knowledge"
    api: str  # the module's name for livekit.api ("api" unless taken or aliased)
    has_api: bool  # the module already imports it under that name
    others: dict[str, str]  # the project's other relevant files (rel -> text), to see who imports what
    made_async: set["cst.FunctionDef"] = field(default_factory=set)  # plain defs a fix turns into async def

    def is_async(self, func: "cst.FunctionDef | None") -> bool:
        return func is not None and (func.asynchronous is not None or func in self.made_async)


@dataclass
class FixReport:
    root: Path
    sdk: str
    files: list[FileFix] = field(default_factory=list)
    guidance: list[Guidance] = field(default_factory=list)
    remaining: list["Finding"] = field(default_factory=list)  # findings no fix settles (guidance included)

    @property
    def changes(self) -> list[Change]:
        return [change for fix in self.files for change in fix.changes]
