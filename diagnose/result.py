"""The plain data that flows from livekit_doctor.checks to renderers."""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Order used by --fail-on: an `error` gates like a `fail` so CI never passes a broken check."""
        return _SEVERITY[self]


_SEVERITY = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 2}


@dataclass(frozen=True)
class Location:
    """A place in the user's files a result points at (code-scan findings, config files)."""

    path: str
    line: int = 0
    column: int = 0
    message: str = ""


@dataclass(frozen=True)
class Result:
    """What one check found. Checks build it with the helpers below; the runner fills in identity and timing."""

    status: Status
    summary: str
    details: str = ""
    fix: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    locations: tuple[Location, ...] = ()
    check_id: str = ""
    title: str = ""
    area: str = ""
    plugin: str = ""
    docs: str = ""
    duration: float = 0.0
    traceback: str = ""
    caused_by: tuple[str, ...] = ()  # check IDs whose problem this one is a consequence of
    layer: int = 0  # place on the plugin's causal chain: lower is more fundamental (stamped by the runner)

    def replace(self, **changes: Any) -> "Result":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["locations"] = [dataclasses.asdict(loc) for loc in self.locations]  # JSON's shape, for round-trips
        data["duration"] = round(self.duration, 4)
        data["caused_by"] = list(self.caused_by)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        data = dict(data)
        data["status"] = Status(data["status"])
        data["locations"] = tuple(Location(**loc) for loc in data.get("locations", ()))
        data["caused_by"] = tuple(data.get("caused_by", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def json_safe(value: Any) -> Any:
    """`value` as strict JSON data: NaN and infinities (which json.dumps writes as invalid JSON) and any
    other object a plugin put in its facts become strings, tuples become lists, keys become strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return str(value)


def passed(summary: str, **kw: Any) -> Result:
    return Result(Status.PASS, summary, **kw)


def warned(summary: str, **kw: Any) -> Result:
    return Result(Status.WARN, summary, **kw)


def failed(summary: str, **kw: Any) -> Result:
    return Result(Status.FAIL, summary, **kw)


def skipped(summary: str, **kw: Any) -> Result:
    return Result(Status.SKIP, summary, **kw)


def errored(summary: str, **kw: Any) -> Result:
    return Result(Status.ERROR, summary, **kw)
