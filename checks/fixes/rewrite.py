"""Apply planned edits to a libcst tree: each edit names a node of the original tree and how to rebuild
it, so edits planned from the original positions still apply after their neighbours changed."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable, Iterable, Union

import libcst as cst

Rebuilt = Union[cst.CSTNode, cst.FlattenSentinel, cst.RemovalSentinel]
Edit = tuple[cst.CSTNode, Callable[[cst.CSTNode], Rebuilt]]


@dataclass
class Group:
    """One logical fix: the findings it settles (rule IDs and lines), what it does, and its edits."""

    rules: tuple[str, ...]
    title: str
    lines: tuple[int, ...]  # the findings' lines in the original file
    edits: list[Edit] = field(default_factory=list)

    def on(self, node: cst.CSTNode, rebuild: Callable[[cst.CSTNode], Rebuilt]) -> None:
        self.edits.append((node, rebuild))


class _Rewriter(cst.CSTTransformer):
    def __init__(self, edits: Iterable[Edit]) -> None:
        super().__init__()
        self.edits: dict[cst.CSTNode, list[Callable[[cst.CSTNode], Rebuilt]]] = defaultdict(list)
        for node, rebuild in edits:
            self.edits[node].append(rebuild)

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Rebuilt:  # type: ignore[override]
        result: Rebuilt = updated_node
        for rebuild in self.edits.get(original_node, ()):
            if not isinstance(result, cst.CSTNode):
                break
            result = rebuild(result)
        return result


def apply(module: cst.Module, groups: Iterable[Group]) -> cst.Module:
    return module.visit(_Rewriter(edit for group in groups for edit in group.edits))


# --- small builders the planner's edits use ---------------------------------------------------------

def awaited(node: cst.CSTNode, parenthesize: bool = False) -> cst.BaseExpression:
    expr = cst.Await(expression=node)  # type: ignore[arg-type]
    return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()]) if parenthesize else expr


def unawaited(node: cst.CSTNode) -> cst.BaseExpression:
    assert isinstance(node, cst.Await)
    inner = node.expression
    if node.lpar and not inner.lpar:
        return inner.with_changes(lpar=node.lpar, rpar=node.rpar)
    return inner


def called(node: cst.CSTNode) -> cst.BaseExpression:
    """`name` -> `name()`."""
    assert isinstance(node, cst.BaseExpression)
    return cst.Call(func=node.with_changes(lpar=[], rpar=[]), lpar=node.lpar, rpar=node.rpar)  # type: ignore[attr-defined]


def statements(code: str, module: cst.Module) -> list[cst.BaseStatement]:
    """Statements parsed from `code` (written with 4-space indents) in the module's own indent and newline."""
    indent = module.default_indent
    if indent != "    ":
        code = "\n".join(indent * ((len(line) - len(line.lstrip(" "))) // 4) + line.lstrip(" ")
                         for line in code.splitlines())
    code = code.replace("\n", module.default_newline)
    return list(cst.parse_module(code, config=module.config_for_parsing).body)


def blank_lines(count: int) -> list[cst.EmptyLine]:
    return [cst.EmptyLine() for _ in range(count)]


def expression(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)
