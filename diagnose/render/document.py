"""The run as plain data: what every renderer takes, and what a saved report loads back into."""

from __future__ import annotations

import calendar
import math
import functools
import dataclasses
import platform
import sys
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from livekit_doctor import PRODUCT
from livekit_doctor.diagnosis import Diagnosis, diagnose, findings_by_code
from livekit_doctor.errors import UsageError
from livekit_doctor.product import Product
from livekit_doctor.result import Finding, Location, Result
from livekit_doctor.summary import exit_code, verdict

if TYPE_CHECKING:
    from livekit_doctor.redact import Redactor

SCHEMA_VERSION = 3  # 2: the diagnosis, and caused_by/layer on each result; 3: findings with codes, causes by code
READABLE_VERSIONS = (1, 2, 3)  # a run saved before findings holds one finding per problem, under a generic code
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class DocumentError(UsageError):
    """A saved report that cannot be loaded."""


@dataclass
class RunDocument:
    results: list[Result]
    started_at: float = field(default_factory=time.time)
    duration: float = 0.0
    fail_on: str = "fail"
    interrupted: bool = False
    timed_out: bool = False
    warnings: list[str] = field(default_factory=list)
    doctor_version: str = PRODUCT.version
    host: str = field(default_factory=platform.node)
    python: str = field(default_factory=lambda: sys.executable)
    explanations: dict[str, str] = field(default_factory=dict)  # check ID -> why it matters
    verbose: bool = False
    product: Product = PRODUCT  # names the tool in reports; not saved

    @property
    def verdict(self) -> str:
        return verdict(self.results)

    @functools.cached_property
    def diagnosis(self) -> Diagnosis:
        """Computed once per document (every renderer reads it; a redacted copy is a new document)."""
        return diagnose(self.results)

    @property
    def exit_code(self) -> int:
        return exit_code(self.results, self.fail_on)

    @property
    def started_at_text(self) -> str:
        return time.strftime(TIME_FORMAT, time.gmtime(self.started_at))

    def redacted(self, redactor: Redactor) -> "RunDocument":
        """A copy with every string scrubbed: the one redaction, before any renderer sees the run."""
        return dataclasses.replace(self, results=[redact_result(r, redactor) for r in self.results],
                                   warnings=redactor.scrub(self.warnings),
                                   explanations=redactor.scrub(self.explanations))

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "doctor_version": self.doctor_version,
            "started_at": self.started_at_text,
            "duration": round(self.duration, 4),
            "host": self.host,
            "python": self.python,
            "fail_on": self.fail_on,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "timed_out": self.timed_out,
            "warnings": list(self.warnings),
            "explanations": dict(self.explanations),
            "diagnosis": self.diagnosis_dict(),
            "results": [r.to_dict() for r in self.results],
        }

    def diagnosis_dict(self) -> dict[str, Any]:
        """The diagnosis with each root cause's own words, so a reader of the JSON needs no lookup."""
        data = self.diagnosis.to_dict()
        found = findings_by_code(self.results)
        for cause in data["root_causes"]:
            _, root = found[cause["code"]]
            cause.update(severity=root.severity.value, message=root.message, fix=root.fix)
        return data

    @classmethod
    def from_dict(cls, data: Any) -> "RunDocument":
        if not isinstance(data, dict) or "results" not in data or "schema_version" not in data:
            raise DocumentError("not a saved run (no schema_version and results)")
        if data["schema_version"] not in READABLE_VERSIONS:
            raise DocumentError(f"schema_version {data['schema_version']} is not supported "
                                f"(this version reads {SCHEMA_VERSION}); upgrade {PRODUCT.name}")
        _check_types(data)
        try:
            return cls(
                results=[Result.from_dict(r) for r in data["results"]],
                started_at=float(calendar.timegm(time.strptime(data["started_at"], TIME_FORMAT))),
                duration=data.get("duration", 0.0),
                fail_on=data.get("fail_on", "fail"),
                interrupted=data.get("interrupted", False),
                timed_out=data.get("timed_out", False),
                warnings=list(data.get("warnings", [])),
                doctor_version=data.get("doctor_version", ""),
                host=data.get("host", ""),
                python=data.get("python", ""),
                explanations=dict(data.get("explanations", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DocumentError(f"malformed run document: {type(exc).__name__}: {exc}") from None


NUMBER = (int, float)
RUN_TYPES: dict[str, Any] = {"started_at": str, "duration": NUMBER, "fail_on": str, "interrupted": bool,
                             "timed_out": bool, "warnings": list, "explanations": dict, "doctor_version": str,
                             "host": str, "python": str, "results": list}
RESULT_TYPES: dict[str, Any] = {"status": str, "summary": str, "details": str, "facts": dict,
                                "check_id": str, "title": str, "area": str, "plugin": str,
                                "docs": str, "duration": NUMBER, "traceback": str, "caused_by": list, "layer": int}
LEGACY_TYPES: dict[str, Any] = {"fix": str, "locations": list}  # schema 1-2: the one judgement's
FINDING_TYPES: dict[str, Any] = {"code": str, "severity": str, "message": str, "fix": str, "evidence": list,
                                 "locations": list, "caused_by": list}
LOCATION_TYPES: dict[str, Any] = {"path": str, "line": int, "column": int, "message": str}


def _check_types(data: dict[str, Any]) -> None:
    """A saved run edited by hand or by another tool: every field the renderers read has the type they
    expect, or DocumentError names the first one that does not (never a crash in a renderer)."""
    from livekit_doctor.summary import FAIL_ON

    def expect(where: str, value: Any, types: dict[str, Any]) -> None:
        if not isinstance(value, dict):
            raise DocumentError(f"{where} is a {type(value).__name__}, not an object")
        for key, wanted in types.items():
            item = value.get(key, 0 if wanted in (int, NUMBER) else wanted())
            if not isinstance(item, wanted) or (wanted in (int, NUMBER) and
                                                (isinstance(item, bool) or not math.isfinite(item))):
                raise DocumentError(f"{where}.{key} is {item!r:.40} (of type {type(item).__name__}): "
                                    "not what a saved run holds")

    expect("the run", data, RUN_TYPES)
    if data.get("fail_on", "fail") not in FAIL_ON:
        raise DocumentError(f"fail_on {data['fail_on']!r} is not one of {', '.join(FAIL_ON)}")
    if not all(isinstance(w, str) for w in data.get("warnings", [])) or \
            not all(isinstance(v, str) for v in data.get("explanations", {}).values()):
        raise DocumentError("warnings and explanations must hold text")
    for i, result in enumerate(data["results"]):
        expect(f"results[{i}]", result, RESULT_TYPES)
        if "findings" not in result:
            expect(f"results[{i}]", result, LEGACY_TYPES)
        findings = result.get("findings", [])
        if not isinstance(findings, list):
            raise DocumentError(f"results[{i}].findings is not a list")
        for j, found in enumerate(findings):
            expect(f"results[{i}].findings[{j}]", found, FINDING_TYPES)
            if found["severity"] not in ("note", "warn", "fail"):
                raise DocumentError(f"results[{i}].findings[{j}].severity {found['severity']!r:.20} is not "
                                    "note, warn or fail")
            _all_text(found, f"results[{i}].findings[{j}]")
            for k, loc in enumerate(found.get("locations", [])):
                expect(f"results[{i}].findings[{j}].locations[{k}]", loc, LOCATION_TYPES)
        for j, loc in enumerate(result.get("locations", [])):
            expect(f"results[{i}].locations[{j}]", loc, LOCATION_TYPES)
        if not all(isinstance(c, str) for c in result.get("caused_by", [])):
            raise DocumentError(f"results[{i}].caused_by must list check IDs")


def _all_text(found: dict[str, Any], where: str) -> None:
    for name in ("evidence", "caused_by"):
        if not all(isinstance(v, str) for v in found.get(name, [])):
            raise DocumentError(f"{where}.{name} must hold text")


def redact_result(result: Result, redactor: Redactor) -> Result:
    """A result with every text it carries scrubbed (live progress lines use this too)."""
    scrub = redactor.scrub
    return result.replace(
        summary=scrub(result.summary), details=scrub(result.details), facts=scrub(result.facts),
        traceback=scrub(result.traceback), findings=tuple(redact_finding(f, redactor) for f in result.findings),
    )


def redact_finding(found: Finding, redactor: Redactor) -> Finding:
    scrub = redactor.scrub
    return found.replace(
        message=scrub(found.message), fix=scrub(found.fix), evidence=scrub(found.evidence),
        locations=tuple(Location(scrub(loc.path), loc.line, loc.column, scrub(loc.message)) for loc in found.locations),
    )
