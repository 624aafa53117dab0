"""The `scan` command's outputs: text for people, JSON for scripts, SARIF 2.1.0 for code scanning.

All three are built from the same ScanReport; the caller redacts the finished text (secrets are
never in a finding's message, and their literal is masked in the source line already).
"""

from __future__ import annotations

import json
from typing import Any

from livekit_doctor.checks.codescan.facts import Finding
from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.codescan.scan import ScanReport

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"fail": "error", "warn": "warning"}


def code_of(f: Finding) -> str:
    """The finding's full code, as the doctor's LK3xx checks report it ("LK305.never-closed")."""
    return f"{f.rule}.{RULES[f.rule].code_of(f)}"


def fix_of(f: Finding) -> str:
    return RULES[f.rule].fix_of(RULES[f.rule].code_of(f))


def as_text(report: ScanReport) -> str:
    lines = [f"scanned {report.files} files ({report.lines} lines) against the installed {report.knowledge.describe()}"]
    for f in report.findings:
        lines += [f"{f.path}:{f.line}:{f.col} {f.rule} {f.message}", f"    {f.source}",
                  f"    fix: {fix_of(f)}"]
    lines += [f"skipped {path}: {why}" for path, why in report.skipped]
    severities = [RULES[f.rule].severity for f in report.findings]
    lines.append(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"
                 f" ({severities.count('fail')} fail, {severities.count('warn')} warn)")
    return "\n".join(lines)


def as_json(report: ScanReport) -> str:
    return json.dumps({
        "root": str(report.root), "sdk": report.knowledge.describe(),
        "files": report.files, "lines": report.lines, "analysed": report.analysed,
        "findings": [{"rule": f.rule, "code": code_of(f), "severity": RULES[f.rule].severity, "path": f.path,
                      "line": f.line, "column": f.col, "message": f.message, "source": f.source, "fix": fix_of(f)}
                     for f in report.findings],
        "skipped": [{"path": path, "reason": why} for path, why in report.skipped],
    }, indent=2)


def as_sarif(report: ScanReport, version: str) -> str:
    """One run: every rule described (so code scanning can show its help), one result per finding."""
    ids = list(RULES)
    rules = [{"id": rule.id, "name": rule.title.title().replace(" ", "").replace("-", ""),
              "shortDescription": {"text": rule.title}, "help": {"text": f"{rule.fix} (livekit-doctor explain {rule.id})"},
              "defaultConfiguration": {"level": LEVELS[rule.severity]}}
             for rule in RULES.values()]
    results: list[dict[str, Any]] = [{
        "ruleId": f.rule, "ruleIndex": ids.index(f.rule), "level": LEVELS[RULES[f.rule].severity],
        "message": {"text": f.message}, "properties": {"code": code_of(f)},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f.path, "uriBaseId": "SRCROOT"},
                                            "region": {"startLine": f.line, "startColumn": f.col,
                                                       "snippet": {"text": f.source}}}}],
    } for f in report.findings]
    notifications = [{"level": "note", "message": {"text": f"skipped: {why}"},
                      "locations": [{"physicalLocation": {"artifactLocation": {"uri": path, "uriBaseId": "SRCROOT"}}}]}
                     for path, why in report.skipped]
    run = {
        "tool": {"driver": {"name": "livekit-doctor", "version": version, "rules": rules}},
        "originalUriBaseIds": {"SRCROOT": {"uri": report.root.resolve().as_uri() + "/"}},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2)
