"""One module analysed: the shared pass records its facts once, every rule reads them.

Suppression (`# livekit-doctor: ignore[ID]` on the reported line) is applied here, for every
rule alike, so that rules only say what is wrong.
"""

from __future__ import annotations

import re

from livekit_doctor.checks.codescan.facts import Finding, Project
from livekit_doctor.checks.codescan.files import SourceFile
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.model import build
from livekit_doctor.checks.codescan.rules import RULES

__all__ = ["Finding", "analyze", "suppressed"]

SUPPRESS = re.compile(r"#\s*livekit-doctor:\s*ignore(?:\[(?P<ids>[A-Z0-9,\s]+)\])?", re.IGNORECASE)


def analyze(source: SourceFile, knowledge: Knowledge, project: Project | None = None) -> list[Finding]:
    """Every rule's findings in one module, unless suppressed, by line, column and rule."""
    facts = build(source, knowledge, project)
    found = [finding for rule in RULES.values() for finding in rule.check(facts, knowledge)
             if not suppressed(finding)]
    return sorted(found, key=lambda f: (f.line, f.col, f.rule))


def suppressed(finding: Finding) -> bool:
    """The reported line (`finding.source`) says to ignore this rule, or every rule."""
    match = SUPPRESS.search(finding.source)
    return bool(match) and (not match["ids"] or finding.rule in {i.strip().upper() for i in match["ids"].split(",")})
