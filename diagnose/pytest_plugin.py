"""`pytest --livekit-doctor`: the doctor's checks as test items in a team's own pytest run.

Off by default (registered through the `pytest11` entry point, it only adds options). The
checks run once, concurrently, when the first item runs; each item then reports its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from livekit_doctor.context import Context
from livekit_doctor.result import Result, Status
from livekit_doctor.summary import FAIL_ON


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("livekit-doctor")
    group.addoption("--livekit-doctor", action="store_true", help="Run the LiveKit doctor's checks as tests.")
    group.addoption("--livekit-doctor-select", action="append", default=[], metavar="IDS",
                    help="Only these check IDs or prefixes (as the doctor's --select).")
    group.addoption("--livekit-doctor-ignore", action="append", default=[], metavar="IDS",
                    help="Leave out these check IDs or prefixes (as --ignore).")
    group.addoption("--livekit-doctor-project", default=".", metavar="DIR", help="The application's directory.")
    group.addoption("--livekit-doctor-fail-on", choices=("warn", "fail"), default="fail",
                    help="Lowest status that fails the test item.")


class DoctorFailure(Exception):
    """A check at or above --livekit-doctor-fail-on; its repr is the check's own report."""


class DoctorRun:
    """The selected checks and, once the first item asks, their results (computed once)."""

    def __init__(self, config: pytest.Config) -> None:
        from livekit_doctor import registry

        reg = registry.load()
        self.checks = reg.select(config.getoption("livekit_doctor_select"), config.getoption("livekit_doctor_ignore"))
        project = Path(config.getoption("livekit_doctor_project")).resolve()
        self.ctx = Context(project_dir=project, options={"project": project})
        self.fail_on = FAIL_ON[config.getoption("livekit_doctor_fail_on")]
        self._results: dict[str, Result] | None = None

    def result(self, check_id: str) -> Result:
        if self._results is None:
            from livekit_doctor.runner import run_blocking

            run = run_blocking(self.checks, self.ctx)
            self._results = {r.check_id: r for r in run.results}
        return self._results[check_id]


class DoctorItem(pytest.Item):
    def __init__(self, *, run: DoctorRun, check_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run, self.check_id = run, check_id

    def runtest(self) -> None:
        result = self.run.result(self.check_id)
        if result.status is Status.SKIP:
            pytest.skip(self.run.ctx.redactor.redact(result.summary))
        if result.status.severity >= self.run.fail_on:
            raise DoctorFailure(result)
        if result.status is Status.WARN:
            import warnings

            warnings.warn(UserWarning(self.run.ctx.redactor.redact(f"{self.check_id}: {result.summary}")))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DoctorFailure):
            from livekit_doctor.render.text import result_block

            return self.run.ctx.redactor.redact(result_block(excinfo.value.args[0], verbose=True))
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int, str]:
        return "livekit-doctor", 0, f"livekit-doctor {self.check_id}"


class DoctorCollector(pytest.Collector):
    def __init__(self, *, run: DoctorRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def collect(self) -> Iterator[DoctorItem]:
        for chk in self.run.checks:
            yield DoctorItem.from_parent(self, name=chk.id, run=self.run, check_id=chk.id)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("livekit_doctor"):
        return
    collector = DoctorCollector.from_parent(session, name="livekit-doctor", run=DoctorRun(config))
    items.extend(collector.collect())
