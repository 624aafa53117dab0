"""Where the LiveKitAPI client lives: built lazily inside the running loop instead of at import (LK304),
closed on shutdown (LK305: a FastAPI lifespan for a module client, `async with` for a local one), and
the Node/Go `RoomServiceClient` turned into LiveKitAPI's `.room` with request objects (LK301).

Only shapes whose every use is understood are rewritten; anything else is left to a person.
"""

from __future__ import annotations

import re

import libcst as cst

from livekit_doctor.checks.codescan.facts import Finding
from livekit_doctor.checks.fixes.imports import add_import
from livekit_doctor.checks.fixes.model import FileContext
from livekit_doctor.checks.fixes.rewrite import Group, blank_lines, called, statements
from livekit_doctor.checks.fixes.source import dotted

CONTEXTMANAGER = "from contextlib import asynccontextmanager"


def construction(ctx: FileContext, finding: Finding) -> tuple[cst.Call, cst.SimpleStatementLine, str] | None:
    """`NAME = <call>(...)` on a line of its own, for the call a finding points at: (call, line, NAME)."""
    call = ctx.source.at(finding.line, finding.col, cst.Call)
    assign = ctx.source.parent(call) if call is not None else None
    line = ctx.source.parent(assign) if isinstance(assign, cst.Assign) else None
    if call is None or not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1 \
            or len(assign.targets) != 1 or not isinstance(assign.targets[0].target, cst.Name):
        return None
    return call, line, assign.targets[0].target.value


def free_name(ctx: FileContext, *candidates: str) -> str:
    taken = ctx.source.module_names()
    return next((name for name in candidates if name not in taken), candidates[-1] + "_")


def lazy(ctx: FileContext, group: Group, line: cst.SimpleStatementLine, name: str, ctor: str, cls: str) -> str | None:
    """`NAME = LiveKitAPI(...)` at module level -> a function NAME() creating it on first use, every read of
    NAME -> NAME(). The private name holding the client, or None when a read of NAME cannot become a call."""
    reads, others = ctx.source.occurrences(name)
    if len(others) != 1 or any(not ctx.is_async(ctx.source.function(r)) for r in reads) or _imported_elsewhere(ctx, name):
        return None
    private = free_name(ctx, f"_{name}", f"_{name}_client")
    code = (f"{private} = None  # the client {name}() creates on first use\n\n\n"
            f"def {name}() -> {cls}:\n"
            f'    """LiveKitAPI opens an aiohttp session, which needs the running event loop: created on first use."""\n'
            f"    global {private}\n"
            f"    if {private} is None:\n"
            f"        {private} = {ctor}\n"
            f"    return {private}\n")

    def rebuild(node: cst.CSTNode) -> cst.FlattenSentinel:
        first, func = statements(code, ctx.source.module)
        return cst.FlattenSentinel([first.with_changes(leading_lines=node.leading_lines), func])  # type: ignore

    group.on(line, rebuild)
    for read in reads:
        group.on(read, called)
    return private


def _imported_elsewhere(ctx: FileContext, name: str) -> bool:
    stem = ctx.source.rel.removesuffix(".py").rpartition("/")[2]
    pattern = re.compile(rf"\b{re.escape(stem)}\b[\w.]*\s+import\s[^\n]*\b{re.escape(name)}\b|\b{re.escape(stem)}\.{re.escape(name)}\b")
    return any(pattern.search(text) for text in ctx.others.values())


def fastapi_app(ctx: FileContext) -> tuple[cst.SimpleStatementLine, cst.Call] | None:
    """The module's `app = FastAPI(...)` when a lifespan can be added to it (none yet, no on_event handlers)."""
    code = ctx.source.module.code
    if "on_event(" in code or "on_startup" in code or "on_shutdown" in code:
        return None
    for stmt in ctx.source.module.body:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Assign):
            value = stmt.body[0].value
            if isinstance(value, cst.Call) and dotted(value.func) in ("FastAPI", "fastapi.FastAPI"):
                if any(arg.keyword is not None and arg.keyword.value == "lifespan" for arg in value.args):
                    return None
                return stmt, value
    return None


def lifespan(ctx: FileContext, group: Group, closes: str, lazy_client: bool) -> bool:
    """A lifespan closing `closes` when the FastAPI app stops, given to the app; False when there is no such app."""
    found = fastapi_app(ctx)
    if found is None:
        return False
    line, call = found
    name = free_name(ctx, "lifespan", "livekit_lifespan")
    close = (f"    if {closes} is not None:\n        await {closes}.aclose()\n" if lazy_client
             else f"    await {closes}.aclose()\n")
    code = (f"@asynccontextmanager\nasync def {name}(app: {dotted(call.func)}):\n"
            f'    """Close the LiveKit client when the app stops (aiohttp warns "Unclosed client session" otherwise)."""\n'
            f"    yield\n{close}")

    def rebuild(node: cst.CSTNode) -> cst.FlattenSentinel:
        assert isinstance(node, cst.SimpleStatementLine)
        func = statements(code, ctx.source.module)[0].with_changes(leading_lines=blank_lines(2))
        comments = [empty for empty in node.leading_lines if empty.comment is not None]
        return cst.FlattenSentinel([func, node.with_changes(leading_lines=[*blank_lines(2), *comments])])

    def with_lifespan(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call)
        args = list(node.args)
        if args:
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        return node.with_changes(args=[*args, cst.Arg(keyword=cst.Name("lifespan"), value=cst.Name(name),
                                                      equal=cst.AssignEqual(cst.SimpleWhitespace(""),
                                                                            cst.SimpleWhitespace("")))])

    group.on(line, rebuild)
    group.on(call, with_lifespan)
    if "asynccontextmanager" not in ctx.source.module_names():
        group.on(ctx.source.module, add_import(CONTEXTMANAGER, stdlib=True))
    return True


def async_with(ctx: FileContext, group: Group, line: cst.SimpleStatementLine, name: str, ctor: str) -> bool:
    """A local `NAME = LiveKitAPI(...)` in an async def's own body -> `async with LiveKitAPI(...) as NAME:` around
    the rest of the body (a trailing `await NAME.aclose()` dropped); False for any other place."""
    block = ctx.source.parent(line)
    func = ctx.source.parent(block) if block is not None else None
    if not isinstance(block, cst.IndentedBlock) or not isinstance(func, cst.FunctionDef) or not ctx.is_async(func):
        return False
    index = list(block.body).index(line)
    reads, _ = ctx.source.occurrences(name)
    if any(isinstance(ctx.source.parent(read), cst.Return) for read in reads if ctx.source.function(read) is func):
        return False  # handed to the caller: theirs to close

    def rebuild(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.FunctionDef) and isinstance(node.body, cst.IndentedBlock)
        body = list(node.body.body)
        rest = [stmt for stmt in body[index + 1:] if not _is_close(stmt, name)] or [cst.SimpleStatementLine([cst.Pass()])]
        head = statements(f"async with {ctor} as {name}:\n    pass\n", ctx.source.module)[0]
        assert isinstance(head, cst.With)
        head = head.with_changes(leading_lines=body[index].leading_lines,
                                 body=head.body.with_changes(body=rest))
        return node.with_changes(body=node.body.with_changes(body=[*body[:index], head]))

    group.on(func, rebuild)
    return True


def _is_close(stmt: cst.CSTNode, name: str) -> bool:
    if not (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr)):
        return False
    value = stmt.body[0].value
    return isinstance(value, cst.Await) and isinstance(value.expression, cst.Call) \
        and dotted(value.expression.func) == f"{name}.aclose"
