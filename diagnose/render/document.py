"""The run as plain data: what every renderer takes, and what a saved JSON report loads back into."""

from __future__ import annotations

import platform
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from diagnose import __version__
from diagnose.result import Result
from diagnose.summary import exit_code, verdict

SCHEMA_VERSION = 1


@dataclass
class RunDocument:
    results: list[Result]
    started_at: float = field(default_factory=time.time)
    duration: float = 0.0
    fail_on: str = "fail"
    interrupted: bool = False
    timed_out: bool = False
    warnings: list[str] = field(default_factory=list)
    doctor_version: str = __version__
    host: str = field(default_factory=platform.node)
    python: str = field(default_factory=lambda: sys.executable)
    verbose: bool = False

    @property
    def verdict(self) -> str:
        return verdict(self.results)

    @property
    def exit_code(self) -> int:
        return exit_code(self.results, self.fail_on)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "doctor_version": self.doctor_version,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.started_at)),
            "duration": round(self.duration, 4),
            "host": self.host,
            "python": self.python,
            "fail_on": self.fail_on,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "interrupted": self.interrupted,
            "timed_out": self.timed_out,
            "warnings": list(self.warnings),
            "results": [r.to_dict() for r in self.results],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunDocument":
        started = time.mktime(time.strptime(data["started_at"], "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
        return cls(
            results=[Result.from_dict(r) for r in data["results"]],
            started_at=started,
            duration=data.get("duration", 0.0),
            fail_on=data.get("fail_on", "fail"),
            interrupted=data.get("interrupted", False),
            timed_out=data.get("timed_out", False),
            warnings=list(data.get("warnings", [])),
            doctor_version=data.get("doctor_version", ""),
            host=data.get("host", ""),
            python=data.get("python", ""),
        )
