"""`livekit-doctor scan [DIR]`: only the code findings, with the doctor's exit codes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.plumbing.config.options import exclude_option
from livekit_doctor.checks.plumbing.sdk.interpreter import python_option
from livekit_doctor.plugin import Sink, StatusLine, make_context
from livekit_doctor.summary import EXIT_OK, EXIT_PROBLEMS


@click.command("scan", params=[exclude_option(), python_option()])
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--fail-on", type=click.Choice(["warn", "fail"]), default="fail", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text", show_default=True,
              help="sarif: SARIF 2.1.0 for GitHub code scanning (upload with github/codeql-action/upload-sarif).")
@click.option("--no-cache", is_flag=True, help="Probe the SDK and analyse every file again, ignoring what earlier runs "
                                                 "kept (${LIVEKIT_DOCTOR_CACHE:-~/.cache/livekit-doctor}).")
def scan(directory: Path, fail_on: str, fmt: str, no_cache: bool, **options: Any) -> None:
    """Scan DIR's Python files for LiveKit SDK misuse (the LK3xx rules)."""
    import asyncio
    from importlib.metadata import PackageNotFoundError, version

    from livekit_doctor.checks.code import code_scan
    from livekit_doctor.checks.codescan.formats import as_json, as_sarif, as_text

    ctx = make_context({**options, "project": directory, "no_cache": no_cache})
    line = StatusLine(sys.stderr)
    ctx.progress = line.show
    try:
        report = asyncio.run(code_scan(ctx))
    finally:
        line.clear()
    if fmt == "sarif":
        try:
            doctor = version("livekit-doctor")
        except PackageNotFoundError:
            doctor = "unknown"
        text = as_sarif(report, doctor)
    else:
        text = as_json(report) if fmt == "json" else as_text(report)
    Sink().echo(ctx.redactor.redact(text))
    gate = {"fail"} if fail_on == "fail" else {"fail", "warn"}
    severities = {RULES[f.rule].severity for f in report.findings}
    click.get_current_context().exit(EXIT_PROBLEMS if gate & severities else EXIT_OK)
