"""Coroutines and plain values, as the installed SDK has them: `await` added to an un-awaited SDK
coroutine inside `async def` (LK302, LK311), removed from a synchronous call (LK303), a FastAPI route
whose SDK calls cannot be awaited made `async def` (LK306), and `.to_jwt()` added where an AccessToken
object is handed out instead of its JWT (what LK502 sees at run time)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import libcst as cst

from livekit_doctor.checks.codescan.facts import Finding
from livekit_doctor.checks.fixes.model import FileContext
from livekit_doctor.checks.fixes.rewrite import Group, awaited, unawaited
from livekit_doctor.checks.fixes.source import dotted

BUILDER_STEPS = {"with_identity", "with_grants", "with_name", "with_metadata", "with_ttl", "with_attributes",
                 "with_kind", "with_room_config", "with_sip_grants", "with_room_preset"}
LIVEKIT_ACCESS_TOKEN = re.compile(r"^\s*from\s+livekit(?:\.api)?\s+import\s[^\n]*\bAccessToken\b", re.MULTILINE)
NEEDS_PARENS = (cst.Attribute, cst.Subscript, cst.Call)  # `(await x).rooms`, not `await x.rooms`


@dataclass
class Planned:
    groups: list[Group] = field(default_factory=list)
    covered: set[Finding] = field(default_factory=set)
    notes: dict[Finding, str] = field(default_factory=dict)  # why a finding is left to a person

    def add(self, group: Group, findings: list[Finding]) -> None:
        self.groups.append(group)
        self.covered.update(findings)


def await_call(group: Group, ctx: FileContext, call: cst.Call) -> None:
    parent = ctx.source.parent(call)
    group.on(call, lambda node: awaited(node, isinstance(parent, NEEDS_PARENS) and getattr(parent, "value",
                                                                                             getattr(parent, "func", None)) is call))


def awaitable_call(ctx: FileContext, finding: Finding) -> cst.Call | None:
    """The un-awaited call a finding points at (the call, or the assignment storing its coroutine)."""
    call = ctx.source.at(finding.line, finding.col, cst.Call)
    if call is None:
        assign = ctx.source.at(finding.line, finding.col, cst.Assign)
        call = assign.value if assign is not None and isinstance(assign.value, cst.Call) else None
    return call


def plan_routes(ctx: FileContext, out: Planned) -> None:
    """LK306 in a FastAPI route: the framework awaits an `async def` route, so it becomes one and awaits its calls."""
    by_function: dict[cst.FunctionDef, list[tuple[Finding, cst.Call]]] = {}
    for finding in ctx.findings:
        if finding.rule != "LK306":
            continue
        call = awaitable_call(ctx, finding)
        func = ctx.source.function(call) if call is not None else None
        if call is None or func is None or not ctx.source.is_route_handler(func):
            out.notes[finding] = ("not a route of a web framework that awaits it: its callers would have to await "
                                  "it too, so make it `async def` and await the call by hand")
            continue
        by_function.setdefault(func, []).append((finding, call))
    for func, calls in by_function.items():
        group = Group(("LK306",), f"route {func.name.value}() made `async def` (FastAPI awaits it; blocking calls "
                                  "in it now run on the event loop) and its SDK calls awaited",
                      tuple(f.line for f, _ in calls))
        group.on(func, lambda node: node.with_changes(asynchronous=cst.Asynchronous()))
        for _, call in calls:
            await_call(group, ctx, call)
        ctx.made_async.add(func)
        out.add(group, [f for f, _ in calls])


def plan_awaits(ctx: FileContext, out: Planned) -> None:
    """LK302/LK311: the coroutine awaited where it is made, inside `async def`; LK303: the await removed."""
    for finding in ctx.findings:
        if finding.rule in ("LK302", "LK311"):
            call = awaitable_call(ctx, finding)
            func = ctx.source.function(call) if call is not None else None
            if call is None or not ctx.is_async(func):
                out.notes[finding] = "not inside `async def`: nothing there can await it"
                continue
            group = Group((finding.rule,), f"`await` added to {dotted(call.func) or 'the call'}()", (finding.line,))
            await_call(group, ctx, call)
            out.add(group, [finding])
        elif finding.rule == "LK303":
            node = ctx.source.at(finding.line, finding.col, cst.Await)
            if node is None:
                continue
            inner = node.expression
            func = inner.func if isinstance(inner, cst.Call) else None
            what = dotted(func) or (func.attr.value if isinstance(func, cst.Attribute) else "the call")
            group = Group(("LK303",), f"`await` removed from the synchronous {what}()", (finding.line,))
            group.on(node, unawaited)
            out.add(group, [finding])


def plan_to_jwt(ctx: FileContext, out: Planned) -> None:
    """An AccessToken builder handed out as a value (dict entry, return, response argument) gets `.to_jwt()`:
    a web framework would serialise the object itself, API secret included."""
    source = ctx.source
    for node in source.positions:
        if not isinstance(node, cst.Call) or not _outermost_builder(ctx, node):
            continue
        parent = source.parent(node)
        target = node
        if isinstance(parent, cst.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0].target, cst.Name):
            if not _only_handed_out(ctx, parent.targets[0].target.value, parent):
                continue
        elif not _handed_out(source, node):
            continue
        line = source.line_of(node)
        group = Group(("LK502",), "`.to_jwt()` added: the AccessToken object was handed out instead of its JWT",
                      (line,))
        group.on(target, lambda n: cst.Call(func=cst.Attribute(value=n, attr=cst.Name("to_jwt"))))
        out.add(group, [])


def _outermost_builder(ctx: FileContext, node: cst.Call) -> bool:
    source, func = ctx.source, node.func
    if not (isinstance(func, cst.Attribute) and func.attr.value in BUILDER_STEPS):
        return False
    parent = source.parent(node)
    if isinstance(parent, cst.Attribute) and parent.value is node:
        return False  # `.to_jwt()` or another step follows
    root = func.value
    while isinstance(root, cst.Call) and isinstance(root.func, cst.Attribute) and root.func.attr.value in BUILDER_STEPS:
        root = root.func.value
    name = dotted(root.func) if isinstance(root, cst.Call) else ""
    return (name == f"{ctx.api}.AccessToken" and ctx.has_api) or \
        (name == "AccessToken" and bool(LIVEKIT_ACCESS_TOKEN.search(source.module.code)))


def _handed_out(source, node: cst.CSTNode) -> bool:
    parent = source.parent(node)
    return isinstance(parent, (cst.DictElement, cst.Return)) and getattr(parent, "value", None) is node


def _only_handed_out(ctx: FileContext, name: str, assign: cst.Assign) -> bool:
    """`token = <builder>` whose every read in that function is a dict value or a return value."""
    func = ctx.source.function(assign)
    reads, others = ctx.source.occurrences(name)
    reads = [r for r in reads if ctx.source.function(r) is func]
    others = [o for o in others if ctx.source.function(o) is func]
    return bool(reads) and len(others) == 1 and all(_handed_out(ctx.source, r) for r in reads)
