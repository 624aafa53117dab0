"""`livekit-doctor scan [DIR]`: only the code findings, with the doctor's exit codes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.plumbing.options import exclude_option, python_option
from livekit_doctor.plugin import Sink, make_context
from livekit_doctor.summary import EXIT_OK, EXIT_PROBLEMS


@click.command("scan", params=[exclude_option(), python_option()])
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--fail-on", type=click.Choice(["warn", "fail"]), default="fail", show_default=True)
def scan(directory: Path, fail_on: str, **options: Any) -> None:
    """Scan DIR's Python files for LiveKit SDK misuse (the LK3xx rules)."""
    import asyncio

    from livekit_doctor.checks.code import code_scan

    ctx = make_context({**options, "project": directory})
    report = asyncio.run(code_scan(ctx))
    lines = [f"scanned {report.files} files ({report.lines} lines) against the installed {report.knowledge.describe()}"]
    for f in report.findings:
        lines += [f"{f.path}:{f.line}:{f.col} {f.rule} {f.message}", f"    {f.source}",
                  f"    fix: {RULES[f.rule].fix}"]
    lines += [f"skipped {path}: {why}" for path, why in report.skipped]
    severities = [RULES[f.rule].severity for f in report.findings]
    lines.append(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"
                 f" ({severities.count('fail')} fail, {severities.count('warn')} warn)")
    Sink().echo(ctx.redactor.redact("\n".join(lines)))
    gate = {"fail"} if fail_on == "fail" else {"fail", "warn"}
    click.get_current_context().exit(EXIT_PROBLEMS if gate & set(severities) else EXIT_OK)
