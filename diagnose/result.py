"""The plain data that flows from livekit_doctor.checks to renderers: Results made of Findings."""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from typing import Any, Iterable


class Status(str, enum.Enum):
    PASS = "pass"
    NOTE = "note"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Order used by --fail-on: an `error` gates like a `fail` so CI never passes a broken check."""
        return _SEVERITY[self]

    @property
    def is_problem(self) -> bool:
        """A warning or worse: what the diagnosis ranks. A note (hygiene) never is one."""
        return self.severity >= _SEVERITY[Status.WARN]


_SEVERITY = {Status.PASS: 0, Status.SKIP: 0, Status.NOTE: 1, Status.WARN: 2, Status.FAIL: 3, Status.ERROR: 3}


class Severity(str, enum.Enum):
    """How bad one finding is. A note is hygiene: shown, never a root cause, never a failing exit."""

    NOTE = "note"
    WARN = "warn"
    FAIL = "fail"

    @property
    def status(self) -> Status:
        return Status(self.value)

    @property
    def rank(self) -> int:
        """Worse is higher: the status's own order (note < warn < fail)."""
        return self.status.severity


RESERVED_CODES = ("fail", "warn", "note", "error")  # what a finding without a declared code is called


@dataclass(frozen=True)
class Location:
    """A place in the user's files a finding points at (code-scan findings, config files)."""

    path: str
    line: int = 0
    column: int = 0
    message: str = ""


@dataclass(frozen=True)
class Finding:
    """One judgement of a check, with a stable code ("LK205.wrong-secret") the causal links name.

    `evidence`: what it rests on, in the other component's own words where there are some (redacted
    before any renderer sees it). `caused_by`: codes of this run's findings it follows from, set by
    the check when it knows (a refusal because of a measured skew) and by the runner from the
    declared links.
    """

    code: str
    severity: Severity
    message: str
    fix: str = ""
    evidence: tuple[str, ...] = ()
    locations: tuple[Location, ...] = ()
    caused_by: tuple[str, ...] = ()

    @property
    def check_id(self) -> str:
        return self.code.split(".", 1)[0]

    @property
    def is_problem(self) -> bool:
        return self.severity is not Severity.NOTE

    def replace(self, **changes: Any) -> "Finding":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "severity": self.severity.value, "message": self.message, "fix": self.fix,
                "evidence": list(self.evidence), "locations": [dataclasses.asdict(loc) for loc in self.locations],
                "caused_by": list(self.caused_by)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(code=data["code"], severity=Severity(data["severity"]), message=data["message"],
                   fix=data.get("fix", ""), evidence=tuple(data.get("evidence", ())),
                   locations=tuple(Location(**loc) for loc in data.get("locations", ())),
                   caused_by=tuple(data.get("caused_by", ())))


@dataclass(frozen=True)
class Result:
    """What one check found. Checks build it with the helpers below; the runner fills in identity and
    timing, qualifies finding codes with the check's ID and sets the status to the worst finding."""

    status: Status
    summary: str
    details: str = ""
    facts: dict[str, Any] = field(default_factory=dict)
    findings: tuple[Finding, ...] = ()
    check_id: str = ""
    title: str = ""
    area: str = ""
    plugin: str = ""
    docs: str = ""
    duration: float = 0.0
    traceback: str = ""
    caused_by: tuple[str, ...] = ()  # a skip's: the check IDs whose outcome made it skip
    layer: int = 0  # place on the plugin's causal chain: lower is more fundamental (stamped by the runner)

    @property
    def problems(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.is_problem)

    @property
    def worst(self) -> Finding | None:
        """The finding that sets the status (the first of the worst severity)."""
        return max(self.findings, key=lambda f: f.severity.rank, default=None)

    @property
    def fix(self) -> str:
        worst = self.worst
        return worst.fix if worst is not None else ""

    @property
    def locations(self) -> tuple[Location, ...]:
        return tuple(loc for f in self.findings for loc in f.locations)

    def replace(self, **changes: Any) -> "Result":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        data["status"] = self.status.value
        data["findings"] = [f.to_dict() for f in self.findings]
        data["duration"] = round(self.duration, 4)
        data["caused_by"] = list(self.caused_by)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Result":
        data = dict(data)
        data["status"] = Status(data["status"])
        if "findings" in data:
            data["findings"] = tuple(Finding.from_dict(f) for f in data["findings"])
        else:  # a run saved before findings (schema 1-2): its one judgement, under its status's reserved code
            data["findings"] = legacy_findings(data)
            data["caused_by"] = data["caused_by"] if data["status"] is Status.SKIP else ()
        data["caused_by"] = tuple(data.get("caused_by", ()))
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def legacy_findings(data: dict[str, Any]) -> tuple[Finding, ...]:
    status = data["status"]
    if status not in (Status.WARN, Status.FAIL, Status.ERROR):
        return ()
    cid = data.get("check_id", "")
    causes = tuple(f"{c}.{kind}" for c in data.get("caused_by", ()) for kind in ("fail", "warn"))
    return (Finding(f"{cid}.{status.value}", Severity.WARN if status is Status.WARN else Severity.FAIL,
                    data.get("summary", ""), fix=data.get("fix", ""),
                    locations=tuple(Location(**loc) for loc in data.get("locations", ())), caused_by=causes),)


def worst_status(findings: Iterable[Finding]) -> Status:
    ranked = [f.severity for f in findings]
    return max(ranked, key=lambda s: s.rank).status if ranked else Status.PASS


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


def finding(code: str, severity: Severity, message: str, *, fix: str = "", evidence: Iterable[str] = (),
            locations: Iterable[Location] = (), caused_by: Iterable[str] = ()) -> Finding:
    """A finding; `code` is the check's own name for it ("wrong-secret"); the runner prefixes the check ID."""
    return Finding(code, severity, message, fix=fix, evidence=tuple(evidence), locations=tuple(locations),
                   caused_by=tuple(caused_by))


def judged(findings: Iterable[Finding], summary: str = "", **kw: Any) -> Result:
    """A result of several judgements: its status is the worst finding; `summary` is what to say when
    none is a problem (the problems' messages are the summary otherwise, notes last)."""
    findings = tuple(findings)
    problems = [f.message for f in findings if f.is_problem]
    return Result(worst_status(findings), "; ".join(problems) if problems else summary, findings=findings, **kw)


def _one(severity: Severity, summary: str, code: str, fix: str, evidence: Iterable[str],
         locations: Iterable[Location], caused_by: Iterable[str], kw: dict[str, Any]) -> Result:
    found = finding(code, severity, summary, fix=fix, evidence=evidence, locations=locations, caused_by=caused_by)
    return Result(severity.status, summary, findings=(found,), **kw)


def passed(summary: str, **kw: Any) -> Result:
    return Result(Status.PASS, summary, **kw)


def failed(summary: str, *, code: str = "fail", fix: str = "", evidence: Iterable[str] = (),
           locations: Iterable[Location] = (), caused_by: Iterable[str] = (), **kw: Any) -> Result:
    """A result of one failing finding (`code`: the check's own name for it, declared with the check)."""
    return _one(Severity.FAIL, summary, code, fix, evidence, locations, caused_by, kw)


def warned(summary: str, *, code: str = "warn", fix: str = "", evidence: Iterable[str] = (),
           locations: Iterable[Location] = (), caused_by: Iterable[str] = (), **kw: Any) -> Result:
    return _one(Severity.WARN, summary, code, fix, evidence, locations, caused_by, kw)


def noted(summary: str, *, code: str = "note", fix: str = "", evidence: Iterable[str] = (),
          locations: Iterable[Location] = (), **kw: Any) -> Result:
    """Hygiene worth knowing (a file mode, a short secret that works): never a root cause or a failing exit."""
    return _one(Severity.NOTE, summary, code, fix, evidence, locations, (), kw)


def skipped(summary: str, **kw: Any) -> Result:
    return Result(Status.SKIP, summary, **kw)


def errored(summary: str, **kw: Any) -> Result:
    return Result(Status.ERROR, summary, **kw)
