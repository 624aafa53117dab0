"""Top-level imports added or trimmed the way a person would: a standard-library import with the other
standard-library ones, the SDK's after the last import, nothing added twice."""

from __future__ import annotations

import sys
from typing import Callable

import libcst as cst

from livekit_doctor.checks.fixes.rewrite import statements
from livekit_doctor.checks.fixes.source import dotted


def _root(stmt: cst.BaseStatement) -> str | None:
    """The top module a top-level import statement imports ("" for relative ones), None for other statements."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    small = stmt.body[0]
    if isinstance(small, cst.Import):
        return dotted(small.names[0].name).split(".")[0]
    if isinstance(small, cst.ImportFrom):
        return "" if small.relative else dotted(small.module).split(".")[0]
    return None


def add_import(line: str, stdlib: bool) -> Callable[[cst.CSTNode], cst.CSTNode]:
    """An edit of the Module adding `line` unless it is there: after the last standard-library import
    (`stdlib`) or after the last import, else after the docstring and `from __future__` imports."""

    def rebuild(module: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(module, cst.Module)
        body = list(module.body)
        if any(module.code_for_node(stmt).strip() == line for stmt in body):
            return module
        roots = [_root(stmt) for stmt in body]
        imports = [i for i, root in enumerate(roots) if root is not None]
        leading = []  # the first run of imports (and the docstring): where imports belong
        for i, stmt in enumerate(body):
            if roots[i] is not None or (i == 0 and _is_docstring(stmt)):
                leading.append(i)
            elif leading:
                break
        imports = [i for i in imports if i in leading] or imports
        if stdlib:
            std = [i for i in imports if roots[i] in sys.stdlib_module_names or roots[i] == "__future__"]
            at = (std[-1] + 1) if std else next((i for i in imports if roots[i] != "__future__"), len(leading))
        else:
            at = imports[-1] + 1 if imports else len(leading)
        new = statements(line + "\n", module)[0]
        if at < len(body) and at > 0 and roots[at - 1] is None and not stdlib:  # after the docstring
            new = new.with_changes(leading_lines=[cst.EmptyLine()])
        return module.with_changes(body=[*body[:at], new, *body[at:]])

    return rebuild


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.Expr) \
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))


def drop_name(name: str, replacement: str | None) -> Callable[[cst.CSTNode], cst.CSTNode | cst.RemovalSentinel]:
    """An edit of a `from X import a, name, b` statement line: `name` removed; the line replaced by
    `replacement` (or removed) when nothing else is left."""

    def rebuild(line: cst.CSTNode) -> cst.CSTNode | cst.RemovalSentinel:
        assert isinstance(line, cst.SimpleStatementLine)
        small = line.body[0]
        assert isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar)
        kept = [alias for alias in small.names if dotted(alias.name) != name]
        if kept:
            kept[-1] = kept[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
            return line.with_changes(body=[small.with_changes(names=kept)])
        if replacement is None:
            return cst.RemoveFromParent()
        return line.with_changes(body=[cst.parse_statement(replacement).body[0]])  # type: ignore[attr-defined]

    return rebuild
