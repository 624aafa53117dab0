"""`livekit-doctor scan [DIR]`: only the code findings, with the doctor's exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import click

from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.sdk import validate_python
from livekit_doctor.context import Context
from livekit_doctor.summary import EXIT_OK, EXIT_PROBLEMS


@click.command("scan")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave these files or directories out (repeatable).")
@click.option("--python", "python", metavar="PATH", callback=validate_python,
              help="The app's interpreter, whose SDK decides what is right.")
@click.option("--fail-on", type=click.Choice(["warn", "fail"]), default="fail", show_default=True)
def scan(directory: Path, exclude: tuple[str, ...], python: str | None, fail_on: str) -> None:
    """Scan DIR's Python files for LiveKit SDK misuse (LK301-LK308)."""
    import asyncio

    from livekit_doctor.checks.code import code_scan

    ctx = Context(project_dir=directory.resolve(), options={"exclude": exclude, "python": python}, env=dict(os.environ))
    report = asyncio.run(code_scan(ctx))
    lines = [f"scanned {report.files} files ({report.lines} lines) against the installed {report.knowledge.describe()}"]
    for f in report.findings:
        lines += [f"{f.path}:{f.line}:{f.col} {f.rule} {f.message}", f"    {f.source}",
                  f"    fix: {RULES[f.rule].fix}"]
    lines += [f"skipped {path}: {why}" for path, why in report.skipped]
    severities = [RULES[f.rule].severity for f in report.findings]
    lines.append(f"{len(report.findings)} finding{'s' if len(report.findings) != 1 else ''}"
                 f" ({severities.count('fail')} fail, {severities.count('warn')} warn)")
    click.echo(ctx.redactor.redact("\n".join(lines)))
    gate = {"fail"} if fail_on == "fail" else {"fail", "warn"}
    click.get_current_context().exit(EXIT_PROBLEMS if gate & set(severities) else EXIT_OK)
