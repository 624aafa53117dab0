"""LK301-LK315: the code scan as checks, one per rule, sharing one scan of the project.

The verdicts follow the installed SDK (LK1xx's shape of the app's interpreter). A rule's result holds
one finding per code it found (LK302.never-awaited), carrying every place as a location: a code is what
the diagnosis and the causal links name, the fix is the same at each place, and renderers and CI
annotations show each location on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livekit_doctor.checks.areas import Area
from livekit_doctor.checks.codescan.rules import RULES, Rule
from livekit_doctor.checks.plumbing.config.options import exclude_option, wing_options
from livekit_doctor.plugin import (Check, Context, Location, Result, Severity, check, code, finding, in_daemon_thread,
                                   judged, passed)

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding as ScanFinding
    from livekit_doctor.checks.codescan.scan import ScanReport


async def code_scan(ctx: Context) -> "ScanReport":
    """The project scanned once per run (in a worker thread: parsing is CPU work), reusing the results
    of unchanged files kept by earlier runs in ctx.cache_dir (none with --no-cache)."""
    import asyncio
    from concurrent.futures import Future

    from livekit_doctor.checks.codescan.knowledge import Knowledge
    from livekit_doctor.checks.codescan.scan import scan
    from livekit_doctor.checks.plumbing.sdk.sdk_shape import installed_sdk

    cache = ctx.cache_dir / "scan-results" if ctx.cache_dir else None

    async def run() -> "ScanReport":
        knowledge: Future[Knowledge] = Future()
        # Parsing starts now; the verdicts wait for the SDK probe, which runs meanwhile.
        scanning = asyncio.ensure_future(  # a daemon thread: a run that times out exits without waiting for it
            in_daemon_thread(scan, ctx.project_dir, knowledge, wing_options(ctx).exclude, cache,
                             ctx.progress, False,  # no worker processes: a timed-out run exits at once
                             ctx.wait_for_quiet))  # holds off while a network check times a step
        try:
            knowledge.set_result(Knowledge.from_shape(await installed_sdk(ctx)))
        except BaseException as exc:  # the scan thread must never wait for a probe that is not coming
            knowledge.set_exception(exc)
            scanning.cancel()
            raise
        report = await scanning
        for found in report.findings:
            ctx.redactor.add(found.literal)
        return report

    return await ctx.amemo("code.scan", run)


def _said(found: list["ScanFinding"]) -> str:
    first = found[0]
    return f"{len(found)} finding{'s' if len(found) > 1 else ''}: {first.path}:{first.line} {first.message}"


def rule_result(rule: Rule, report: "ScanReport") -> Result:
    found = [f for f in report.findings if f.rule == rule.id]
    facts = {"files": report.files, "lines": report.lines, "skipped": [f"{p}: {why}" for p, why in report.skipped],
             "sdk": report.knowledge.describe(), "findings": len(found)}
    if not found:
        skipped = f", {len(report.skipped)} skipped" if report.skipped else ""
        return passed(f"no findings in {report.files} files ({report.lines} lines{skipped})", facts=facts)
    by_code: dict[str, list[ScanFinding]] = {name: [] for name, _ in rule.codes}
    for f in found:
        by_code.setdefault(rule.code_of(f), []).append(f)
    severity = Severity.FAIL if rule.severity == "fail" else Severity.WARN
    findings = [finding(name, severity, _said(places), fix=rule.fix_of(name),
                        locations=[Location(f.path, f.line, f.col, f"{rule.id} {f.message}") for f in places])
                for name, places in by_code.items() if places]
    details = "\n".join(f"{f.path}:{f.line}:{f.col} {f.message}\n    {f.source}" for f in found)
    return judged(findings, details=details, facts=facts).replace(summary=_said(found))


def rule_codes(rule: Rule) -> tuple:
    return tuple(code(name, meaning, explained_by=rule.causes_of(name)) for name, meaning in rule.codes)


def _rule_check(rule: Rule) -> Check:
    async def run(ctx: Context) -> Result:
        return rule_result(rule, await code_scan(ctx))

    run.__doc__ = rule.title
    return check(rule.id, rule.title, area=Area.CODE, timeout=60, codes=rule_codes(rule))(run)


CHECKS = [_rule_check(rule) for rule in RULES.values()]
OPTIONS = [exclude_option()]
