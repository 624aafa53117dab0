"""`livekit-doctor fix [DIR]`: the safe fixes of the code findings and `.env` damage as a unified diff;
`--write` applies them (a snapshot records what changed). Exit codes as `scan`'s, for the project as
it is when the command ends: 0 nothing at or above `--fail-on` is left, 1 something is, 2 bad input."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import click

from livekit_doctor.checks.plumbing.config.options import exclude_option, wing_options
from livekit_doctor.checks.plumbing.sdk.interpreter import python_option
from livekit_doctor.errors import UsageError
from livekit_doctor.plugin import Sink, make_context
from livekit_doctor.summary import EXIT_OK, EXIT_PROBLEMS

FIXABLE = ("LK2", "LK3", "LK502")  # what fix looks at: .env damage (LK202/LK203), code (LK3xx), the token object
RULE_ID = re.compile(r"LK\d{0,3}")


def _rules(values: tuple[str, ...]) -> tuple[str, ...]:
    out = tuple(part.strip().upper() for value in values for part in value.split(",") if part.strip())
    bad = [p for p in out if not RULE_ID.fullmatch(p)]
    if bad:
        raise UsageError(f"--select/--ignore: {', '.join(bad)} is not a rule ID or prefix (LK302, LK3)")
    return out


@click.command("fix", params=[exclude_option(), python_option()])
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path), default=".")
@click.option("--write", is_flag=True, help="Apply the fixes (the .env is backed up first); without it, only the diff.")
@click.option("--select", multiple=True, metavar="IDS", help="Only these rules (IDs or prefixes: LK302, LK30).")
@click.option("--ignore", multiple=True, metavar="IDS", help="Leave these rules alone (IDs or prefixes).")
@click.option("--fail-on", type=click.Choice(["warn", "fail"]), default="fail", show_default=True)
@click.option("--env-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
              help="The .env to clean (default: .env in DIR).")
@click.option("--snapshot", type=click.Path(dir_okay=False, path_type=Path),
              help="Where --write records what changed (default: livekit-doctor-fix-<UTC time>.md).")
@click.option("--no-snapshot", is_flag=True, help="Do not write that record.")
def fix(directory: Path, write: bool, select: tuple[str, ...], ignore: tuple[str, ...], fail_on: str,
        env_file: Path | None, snapshot: Path | None, no_snapshot: bool, **options: Any) -> None:
    """Show (and with --write apply) the safe fixes for DIR's LiveKit code findings and .env damage."""
    import asyncio

    from livekit_doctor.checks.code import code_scan
    from livekit_doctor.checks.codescan.rules import RULES
    from livekit_doctor.checks.fixes.report import as_diff, as_markdown, as_text
    from livekit_doctor.checks.fixes.run import plan_fixes
    from livekit_doctor.checks.fixes.run import write as write_fixes
    from livekit_doctor.output import write_atomic

    chosen, left_out = _rules(select), _rules(ignore)

    def wanted(rule: str) -> bool:
        return rule.startswith(FIXABLE) and (not chosen or rule.startswith(chosen)) and not rule.startswith(left_out)

    record = None
    if write and not no_snapshot:
        record = snapshot or Path(time.strftime("livekit-doctor-fix-%Y%m%dT%H%M%SZ.md", time.gmtime()))
    sink = Sink(snapshot=record)
    ctx = make_context({**options, "project": directory})
    report = asyncio.run(code_scan(ctx))
    fixes, secrets = plan_fixes(report, wanted, wing_options(ctx).exclude, env_file)
    for secret in secrets:
        ctx.redactor.add(secret)
    diff = as_diff(fixes)
    if diff and not write:
        sink.echo(ctx.redactor.redact(diff), nl=False)
    if write:
        write_fixes(fixes)
        if record is not None:
            write_atomic(record, ctx.redactor.redact(as_markdown(fixes)))
    sink.echo(ctx.redactor.redact(as_text(fixes, written=write)))
    if write and record is not None:
        sink.echo(f"record of the changes written to {record}", err=True)
    left = [RULES[f.rule].severity for f in (fixes.remaining if write else
                                             [f for f in report.findings if wanted(f.rule)])]
    left += ["fail" for g in fixes.guidance if g.rule.startswith("LK2")]
    if not write:
        left += ["fail" for c in fixes.changes if c.rules[0].startswith(("LK2", "LK5"))]
    gate = {"fail"} if fail_on == "fail" else {"fail", "warn"}
    click.get_current_context().exit(EXIT_PROBLEMS if gate & set(left) else EXIT_OK)
