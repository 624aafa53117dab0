"""One Python file as a libcst tree, with what the planner asks of it: which node a finding points
at, what encloses a node, which name the module uses for `livekit.api`, which names it binds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TypeVar

import libcst as cst
from libcst.metadata import (ExpressionContext, ExpressionContextProvider, MetadataWrapper, ParentNodeProvider,
                             PositionProvider)

from livekit_doctor.checks.codescan.files import LINE_END

N = TypeVar("N", bound=cst.CSTNode)
ROUTE_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket"}


@dataclass
class Source:
    """The parsed file; `lines` as Python numbers them (what findings refer to)."""

    rel: str
    data: bytes
    module: cst.Module
    positions: dict[cst.CSTNode, tuple[int, int, int, int]]  # node -> (line, col, end line, end col), characters
    parents: dict[cst.CSTNode, cst.CSTNode]
    lines: list[str]
    contexts: dict[cst.CSTNode, ExpressionContext | None]
    starts: dict[tuple[int, int], list[cst.CSTNode]] = field(default_factory=lambda: defaultdict(list))

    @classmethod
    def parse(cls, rel: str, data: bytes) -> "Source | str":
        """The tree, or why it cannot be rewritten."""
        try:
            wrapper = MetadataWrapper(cst.parse_module(data), unsafe_skip_copy=True)
        except (cst.ParserSyntaxError, UnicodeDecodeError, RecursionError) as exc:
            return f"libcst cannot parse it ({type(exc).__name__})"
        positions = {node: (r.start.line, r.start.column, r.end.line, r.end.column)
                     for node, r in wrapper.resolve(PositionProvider).items()}
        source = cls(rel, data, wrapper.module, positions, dict(wrapper.resolve(ParentNodeProvider)),
                     _lines(wrapper.module.code), dict(wrapper.resolve(ExpressionContextProvider)))
        for node, (line, col, _, _) in positions.items():
            source.starts[(line, col)].append(node)
        return source

    def at(self, line: int, byte_col: int, kind: type[N]) -> N | None:
        """The node of `kind` a finding (1-based line, 1-based UTF-8 column, as `ast` counts) points at."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        col = len(text.encode()[:byte_col - 1].decode(errors="ignore"))
        return next((n for n in self.starts.get((line, col), ()) if isinstance(n, kind)), None)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.positions[node][0]

    def parent(self, node: cst.CSTNode) -> cst.CSTNode | None:
        return self.parents.get(node)

    def function(self, node: cst.CSTNode) -> cst.FunctionDef | None:
        """The innermost def around `node`; None at module level or inside a lambda (which cannot await)."""
        current = self.parents.get(node)
        while current is not None:
            if isinstance(current, cst.Lambda):
                return None
            if isinstance(current, cst.FunctionDef):
                return current
            current = self.parents.get(current)
        return None

    def top_level(self, node: cst.CSTNode) -> bool:
        return isinstance(self.parents.get(node), cst.Module)

    def api_alias(self) -> str | None:
        """The module-level name bound to `livekit.api` (`from livekit import api [as x]`, `import livekit.api as x`)."""
        for stmt in self.module.body:
            for small in getattr(stmt, "body", ()) if isinstance(stmt, cst.SimpleStatementLine) else ():
                if isinstance(small, cst.ImportFrom) and dotted(small.module) == "livekit" \
                        and not isinstance(small.names, cst.ImportStar) and not small.relative:
                    for alias in small.names:
                        if dotted(alias.name) == "api":
                            return alias.evaluated_alias or "api"
                if isinstance(small, cst.Import):
                    for alias in small.names:
                        if dotted(alias.name) == "livekit.api" and alias.asname is not None:
                            return alias.evaluated_alias
        return None

    def module_names(self) -> set[str]:
        """Every name bound at module level (assigned, imported, defined)."""
        names: set[str] = set()
        for stmt in self.module.body:
            if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                names.add(stmt.name.value)
            for node in _walk(stmt):
                if isinstance(node, cst.AssignTarget) and isinstance(node.target, cst.Name):
                    names.add(node.target.value)
                elif isinstance(node, cst.ImportAlias):
                    names.add(node.evaluated_alias or dotted(node.name).split(".")[0])
        return names

    def occurrences(self, name: str) -> tuple[list[cst.Name], list[cst.Name]]:
        """`name` read anywhere in the module, and every other occurrence (bound, deleted, declared global),
        in source order; attributes and keywords of that spelling are other things."""
        reads, others = [], []
        for node, context in self.contexts.items():
            if not isinstance(node, cst.Name) or node.value != name:
                continue
            parent = self.parents.get(node)
            if isinstance(parent, cst.Arg) and parent.keyword is node:
                continue
            if isinstance(parent, (cst.ImportAlias, cst.AsName)):
                others.append(node)
            elif context == ExpressionContext.LOAD and not isinstance(parent, cst.NameItem):
                reads.append(node)
            elif context is not None or isinstance(parent, cst.NameItem):
                others.append(node)
        key = self.positions.__getitem__
        return sorted(reads, key=key), sorted(others, key=key)

    def is_route_handler(self, func: cst.FunctionDef) -> bool:
        """A FastAPI/Starlette-style route (`@app.post(...)`, `@router.get(...)`) in a module importing fastapi:
        the framework calls it and awaits it when it is `async def`, nobody else does."""
        if "fastapi" not in self.module.code:
            return False
        routed = any(isinstance(d.decorator, cst.Call) and isinstance(d.decorator.func, cst.Attribute)
                     and d.decorator.func.attr.value in ROUTE_METHODS for d in func.decorators)
        reads, others = self.occurrences(func.name.value)
        return routed and not reads and others == [func.name]


def _lines(text: str) -> list[str]:
    lines = LINE_END.split(text)
    return lines[:-1] if lines and lines[-1] == "" else lines


def dotted(node: cst.BaseExpression | None) -> str:
    """`api.LiveKitAPI` for that expression, "" for anything that is not a dotted name."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def _walk(node: cst.CSTNode):
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, (cst.FunctionDef, cst.ClassDef)) and current is not node:
            continue
        stack.extend(current.children)
