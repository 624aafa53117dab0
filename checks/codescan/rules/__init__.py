"""The code-scan rules, one module per rule ID (like ruff), found by looking in this package.

A rule module is named `lk<NNN>_<what>.py` and holds ID, TITLE, SEVERITY ("fail" or "warn"),
FIX and `check(facts, sdk)`, which yields the rule's `Finding`s from the module's facts (see
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


def discover(path: Iterable[str], package: str) -> dict[str, Rule]:
    """The rules of the `lk<NNN>_*` modules of a package, by ID."""
    rules = []
    for info in pkgutil.iter_modules(path):
        if RULE_MODULE.fullmatch(info.name):
            module = importlib.import_module(f"{package}.{info.name}")
            rules.append(Rule(module.ID, module.TITLE, module.SEVERITY, module.FIX, module.check))
    return {rule.id: rule for rule in sorted(rules, key=lambda r: r.id)}


RULES = discover(__path__, __name__)
