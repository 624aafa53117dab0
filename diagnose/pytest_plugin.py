"""`pytest --livekit-doctor`: the doctor's checks as test items in a team's own pytest run.

Off by default (registered through the `pytest11` entry point, it only adds options). The
checks run once, concurrently, when the first item runs; each item then reports its result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from livekit_doctor import PRODUCT
from livekit_doctor.context import make_context
from livekit_doctor.errors import UsageError
from livekit_doctor.result import Result, Status
from livekit_doctor.summary import FAIL_ON


OPT = f"--{PRODUCT.name}"  # --livekit-doctor, --livekit-doctor-select ...
DEST = PRODUCT.name.replace("-", "_")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup(PRODUCT.name)
    group.addoption(OPT, action="store_true", dest=DEST, help=f"Run the {PRODUCT.title}'s checks as tests.")
    group.addoption(f"{OPT}-select", action="append", default=[], metavar="IDS", dest=f"{DEST}_select",
                    help="Only these check IDs or prefixes (as the doctor's --select).")
    group.addoption(f"{OPT}-ignore", action="append", default=[], metavar="IDS", dest=f"{DEST}_ignore",
                    help="Leave out these check IDs or prefixes (as --ignore).")
    group.addoption(f"{OPT}-project", default=".", metavar="DIR", dest=f"{DEST}_project",
                    help="The application's directory.")
    group.addoption(f"{OPT}-fail-on", choices=("warn", "fail"), default="fail", dest=f"{DEST}_fail_on",
                    help="Lowest status that fails the test item.")


class DoctorFailure(Exception):
    """A check at or above --<product>-fail-on; its repr is the check's own report."""


class DoctorRun:
    """The selected checks and, once the first item asks, their results (computed once)."""

    def __init__(self, config: pytest.Config) -> None:
        from livekit_doctor import registry

        reg = registry.load(PRODUCT)
        self.checks = reg.select(config.getoption(f"{DEST}_select"), config.getoption(f"{DEST}_ignore"))
        try:
            self.ctx = make_context({"project": Path(config.getoption(f"{DEST}_project"))})
        except UsageError as exc:
            raise pytest.UsageError(f"{OPT}-project: {exc}") from None
        self.fail_on = FAIL_ON[config.getoption(f"{DEST}_fail_on")]
        self._results: dict[str, Result] | None = None

    def result(self, check_id: str) -> Result:
        if self._results is None:
            from livekit_doctor.runner import run_blocking

            run = run_blocking(self.checks, self.ctx)
            from livekit_doctor.render.document import redact_result

            self._results = {r.check_id: redact_result(r, self.ctx.redactor) for r in run.results}
        return self._results[check_id]


class DoctorItem(pytest.Item):
    def __init__(self, *, run: DoctorRun, check_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run, self.check_id = run, check_id

    def runtest(self) -> None:
        result = self.run.result(self.check_id)
        if result.status is Status.SKIP:
            pytest.skip(result.summary)
        if result.status.severity >= self.run.fail_on:
            raise DoctorFailure(result)
        if result.status is Status.WARN:
            import warnings

            warnings.warn(UserWarning(f"{self.check_id}: {result.summary}"))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, DoctorFailure):
            from livekit_doctor.render.text import result_block

            return result_block(excinfo.value.args[0], verbose=True)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int, str]:
        return PRODUCT.name, 0, f"{PRODUCT.name} {self.check_id}"


class DoctorCollector(pytest.Collector):
    def __init__(self, *, run: DoctorRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.run = run

    def collect(self) -> Iterator[DoctorItem]:
        for chk in self.run.checks:
            yield DoctorItem.from_parent(self, name=chk.id, run=self.run, check_id=chk.id)


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption(DEST):
        return
    collector = DoctorCollector.from_parent(session, name=PRODUCT.name, run=DoctorRun(config))
    items.extend(collector.collect())
