"""The code-scan rules, one module per rule ID (like ruff), found by looking in this package.

A rule module is named `lk<NNN>_<what>.py` and holds ID, TITLE, SEVERITY ("fail" or "warn"),
FIX, CODES (its finding codes, each with what it means; the first is what a finding is unless
it says otherwise), optionally FIXES (code -> its own fix, where FIX does not fit it) and
EXPLAINED_BY (code -> full codes of other checks' findings that explain it), and `check(facts, sdk)`, which yields the rule's `Finding`s from the module's facts (see
docs/code-scan.md, "Adding a rule"). Nothing else lists the rules.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

RULE_MODULE = re.compile(r"lk\d{3}_\w+")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str  # "fail" or "warn"
    fix: str
    check: Callable[[ModuleFacts, Knowledge], Iterable[Finding]] = field(repr=False, compare=False)
    codes: tuple[tuple[str, str], ...] = ()  # (code, what it means), the rule's usual finding first
    explained_by: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (code, full codes of what can explain it)
    fixes: tuple[tuple[str, str], ...] = ()  # (code, its fix) where FIX does not fit

    def code_of(self, finding: Finding) -> str:
        """The finding's code ("never-awaited"): its own, else the rule's usual one."""
        return finding.code or self.codes[0][0]

    def causes_of(self, code: str) -> tuple[str, ...]:
        return dict(self.explained_by).get(code, ())

    def fix_of(self, code: str) -> str:
        return dict(self.fixes).get(code, self.fix)


def discover(path: Iterable[str], package: str) -> dict[str, Rule]:
    """The rules of the `lk<NNN>_*` modules of a package, by ID."""
    rules = []
    for info in pkgutil.iter_modules(path):
        if RULE_MODULE.fullmatch(info.name):
            module = importlib.import_module(f"{package}.{info.name}")
            rules.append(Rule(module.ID, module.TITLE, module.SEVERITY, module.FIX, module.check,
                              tuple(module.CODES.items()),
                              tuple((c, tuple(causes)) for c, causes in getattr(module, "EXPLAINED_BY", {}).items()),
                              tuple(getattr(module, "FIXES", {}).items())))
    return {rule.id: rule for rule in sorted(rules, key=lambda r: r.id)}


RULES = discover(__path__, __name__)
