"""One file's findings -> the fixes to apply (each a group of edits) and the guidance for the rest; the
rewrite kept only if the scan, run again on the result, finds nothing new and none of what was fixed."""

from __future__ import annotations

import difflib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from livekit_doctor.checks.codescan.analysis import analyze
from livekit_doctor.checks.codescan.facts import Finding
from livekit_doctor.checks.codescan.files import LINE_END, decode, parse_text
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.lifetimes import project_of
from livekit_doctor.checks.codescan.rules import RULES
from livekit_doctor.checks.fixes.awaits import Planned, plan_awaits, plan_routes, plan_to_jwt
from livekit_doctor.checks.fixes.clients import async_with, construction, lazy, lifespan
from livekit_doctor.checks.fixes.model import Change, FileContext, Guidance
from livekit_doctor.checks.fixes.rewrite import Group, apply
from livekit_doctor.checks.fixes.room_service import plan_room_service_client
from livekit_doctor.checks.fixes.source import Source

MAX_ROUNDS = 3
NEVER_MECHANICAL = {
    "LK306": "an async call from a plain `def`: the function and its callers must become async, by hand",
    "LK308": "a leaked secret: move it to the environment (LIVEKIT_API_SECRET) and rotate it on the server; "
             "the doctor never rewrites credentials",
}
OTHER_SDK = {
    "third-party": ("the installed livekit package is the third-party synchronous one, so the doctor rewrites "
                    "nothing for it. Either install the official SDK (pip uninstall livekit-server-sdk-python; "
                    "pip install livekit-api) and run `livekit-doctor fix` again, or keep the package and apply this "
                    "by hand (docs/fix.md, 'The third-party package')"),
    "none": "no LiveKit server SDK is installed: pip install livekit-api, then run `livekit-doctor fix` again",
    "rtc-only": "only the livekit rtc package is installed: pip install livekit-api, then run `livekit-doctor fix` again",
}


@dataclass
class FilePlan:
    rel: str
    before: str
    after: str
    changes: list[Change] = field(default_factory=list)
    guidance: list[Guidance] = field(default_factory=list)
    settled: set[Finding] = field(default_factory=set)
    data: bytes = b""


def plan_file(rel: str, data: bytes, findings: list[Finding], sdk: Knowledge, others: dict[str, str],
              wanted: Callable[[str], bool]) -> FilePlan:
    """`wanted(rule)`: the rule is selected; `others`: the project's other relevant files (rel -> text).

    A fix can uncover a finding the scan could not see before (the awaited call that may raise before the
    aclose()): the result is scanned again and planned again, up to MAX_ROUNDS times, until the scan finds
    nothing the original did not; otherwise nothing in the file is changed.
    """
    text = decode(data)
    findings = [f for f in findings if wanted(f.rule)]
    if isinstance(text, tuple):
        return FilePlan(rel, "", "", data=data, guidance=[_guidance(f, text[0]) for f in findings])
    plan = FilePlan(rel, text, text, data=data)
    notes: dict[Finding, str] = {}
    current, todo, covered, changes = data, findings, set(), []
    why = OTHER_SDK.get(sdk.family, "") if sdk.family != "official" else None
    for _ in range(MAX_ROUNDS if why is None else 0):
        source = Source.parse(rel, current)
        if isinstance(source, str):
            why = source
            break
        out = _plan(source, todo, sdk, others, wanted)
        notes.update(out.notes)
        if not out.groups:
            break
        current = apply(source.module, out.groups).bytes
        covered |= out.covered
        changes += [_change(rel, source, group) for group in out.groups]
        again = _rescan(rel, current, sdk, others)
        if isinstance(again, str):
            why = again
            break
        todo = [f for f in again if wanted(f.rule)]
        if not Counter(f.rule for f in todo) - Counter(f.rule for f in findings if f not in covered):
            plan.after, plan.data, plan.changes, plan.settled = _text(current), current, changes, covered
            break
    if covered and not plan.settled:
        why = why or "the rewrite did not verify (the scan still found what it should fix); nothing was changed"
        notes.update({f: why for f in covered})
    plan.guidance = [_guidance(f, notes.get(f, why or NEVER_MECHANICAL.get(f.rule, ""))) for f in findings
                     if f not in plan.settled]
    return plan


def _plan(source: Source, findings: list[Finding], sdk: Knowledge, others: dict[str, str],
          wanted: Callable[[str], bool]) -> Planned:
    alias = source.api_alias()
    ctx = FileContext(source, findings, sdk, alias or ("api" if "api" not in source.module_names() else "livekit_api"),
                      alias is not None, others)
    out = Planned()
    if wanted("LK306"):
        plan_routes(ctx, out)
    plan_room_service_client(ctx, out)
    plan_awaits(ctx, out)
    _plan_clients(ctx, out)
    if wanted("LK502"):
        plan_to_jwt(ctx, out)
    return out


def _plan_clients(ctx: FileContext, out: Planned) -> None:
    """LK304 (module-level client -> lazy) and LK305 (closed: lifespan or `async with`), per construction."""
    by_line: dict[int, list[Finding]] = {}
    for f in ctx.findings:
        if f.rule in ("LK304", "LK305") and f not in out.covered:
            by_line.setdefault(f.line * 10_000 + f.col, []).append(f)
    for found in by_line.values():
        rules = {f.rule for f in found}
        shape = construction(ctx, found[0])
        if shape is None:
            out.notes.update({f: "the client is not assigned to a plain name on a line of its own" for f in found})
            continue
        call, line, name = shape
        ctor = ctx.source.module.code_for_node(call)
        cls = ctx.source.module.code_for_node(call.func)
        group = Group(tuple(sorted(rules)), "", (found[0].line,))
        if ctx.source.top_level(line) and "LK304" in rules:
            private = lazy(ctx, group, line, name, ctor, cls)
            if private is None:
                out.notes.update({f: f"`{name}` is read outside async code or imported by another module: create the "
                                     "client inside async code by hand" for f in found})
                continue
            closed = "LK305" in rules and lifespan(ctx, group, private, lazy_client=True)
            group.title = f"`{name}` created lazily inside the running loop" + (
                ", closed in the FastAPI lifespan" if closed else "")
            out.add(group, [f for f in found if f.rule == "LK304" or closed])
            if "LK305" in rules and not closed:
                out.notes.update({f: "no FastAPI app in this module to close it in: `await "
                                     f"{private}.aclose()` in your shutdown hook" for f in found if f.rule == "LK305"})
        elif rules == {"LK305"} and ctx.source.top_level(line):
            if lifespan(ctx, group, name, lazy_client=False):
                group.title = f"`{name}` closed in the FastAPI lifespan"
                out.add(group, found)
            else:
                out.notes.update({f: f"no FastAPI app in this module: `await {name}.aclose()` on shutdown"
                                  for f in found})
        elif rules == {"LK305"} and async_with(ctx, group, line, name, ctor):
            group.title = f"`{name}` used in `async with`, which closes it on every path"
            out.add(group, found)
        else:
            out.notes.update({f: "not a shape the doctor rewrites safely (see the rule's fix)" for f in found})


def _text(data: bytes) -> str:
    text = decode(data)
    return text if isinstance(text, str) else data.decode("utf-8", errors="replace")


def _rescan(rel: str, data: bytes, sdk: Knowledge, others: dict[str, str]) -> list[Finding] | str:
    """The scan's findings in the rewritten file (with the project's facts as they now are), or why it failed."""
    text = _text(data)
    parsed = parse_text(text, Path(rel), rel)
    if isinstance(parsed, str):
        return f"the rewrite did not parse ({parsed}); nothing was changed"
    return analyze(parsed, sdk, project_of({**others, rel: text}))


def _guidance(finding: Finding, why: str) -> Guidance:
    advice = RULES[finding.rule].fix if finding.rule in RULES else ""
    return Guidance(finding.rule, finding.path, finding.line, finding.col, finding.message,
                    f"{why}. {advice}" if why else advice)


def _change(rel: str, source: Source, group: Group) -> Change:
    """The group applied alone to the file: at its finding's line, the lines it changes, before and after."""
    before = LINE_END.split(source.module.code)
    after = LINE_END.split(apply(source.module, [group]).code)
    matcher = difflib.SequenceMatcher(None, before, after, autojunk=False)
    changed = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not changed:
        return Change(rel, group.rules, group.title, min(group.lines), (), ())
    first, last = changed[0], changed[-1]
    return Change(rel, group.rules, group.title, min(group.lines), tuple(before[first[1]:last[2]]),
                  tuple(after[first[3]:last[4]]))
