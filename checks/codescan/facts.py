"""What the analysis pass (`model`) records about one module, for the rules to read.

Plain facts with their AST node and resolved `Kind`s, in source order. A rule filters these
lists; it never walks the tree or tracks names itself.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from livekit_doctor.checks.codescan.files import SourceFile
from livekit_doctor.checks.codescan.kinds import Kind

# Where code runs: inside `async def`, inside a plain `def` (or lambda), in a class body, at module level.
Context = Literal["async", "def", "class", "module"]
# What the code does with a call's result, when it is the direct child of: `await`, a scheduler or
# runner (asyncio.create_task/gather/run...), `return`, an expression statement; "" for anything else.
Use = Literal["awaited", "scheduled", "returned", "statement", ""]


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    line: int
    col: int
    message: str
    source: str = ""
    literal: str = ""  # a hard-coded secret, for the redactor; never shown


@dataclass(frozen=True, slots=True)
class Import:
    """An import statement binding LiveKit or asyncio names."""

    node: ast.Import | ast.ImportFrom
    module: str | None  # the X of `from X import ...`; None for `import ...`
    kinds: tuple[Kind, ...]  # what each name it binds holds, in order


@dataclass(frozen=True, slots=True)
class Reference:
    """`<module>.<name>` read, e.g. `api.RoomServiceClient`."""

    node: ast.Attribute
    module: str
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    """A call of something known."""

    node: ast.Call
    func: Kind  # what is called
    kind: Kind | None  # what it returns
    context: Context
    use: Use


@dataclass(frozen=True, slots=True)
class Await:
    """`await <call>`."""

    node: ast.Await
    kind: Kind | None  # what the awaited call returns


@dataclass(frozen=True, slots=True)
class Construction:
    """`LiveKitAPI(...)`."""

    node: ast.Call
    context: Context
    function: str | None  # the innermost enclosing def (its class for `__init__`); None outside any def
    async_with: bool  # an `async with` item, closed on leaving the block


@dataclass(frozen=True, slots=True)
class StoredCoroutine:
    """A coroutine assigned to a name in `async def` and never awaited, scheduled or passed on."""

    node: ast.Assign
    name: str
    attribute: ast.Attribute | None  # `name.attr` read instead, or None: the name is never read


@dataclass(frozen=True, slots=True)
class Credential:
    """A non-empty string literal passed as the API key or secret to an SDK constructor."""

    node: ast.Constant
    cls: str
    what: Literal["key", "secret"]
    value: str


@dataclass
class ModuleFacts:
    source: SourceFile
    import_time_calls: frozenset[str]  # names of functions and classes called at module level
    mentions_aclose: bool  # `.aclose` appears anywhere in the file
    imports: list[Import] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    awaits: list[Await] = field(default_factory=list)
    constructions: list[Construction] = field(default_factory=list)
    stored_coroutines: list[StoredCoroutine] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)

    @cached_property
    def lines(self) -> list[str]:
        return self.source.lines

    def finding(self, rule: str, node: ast.stmt | ast.expr, message: str, literal: str = "") -> Finding:
        """A finding of `rule` at `node`, with its source line."""
        line = node.lineno
        source = self.lines[line - 1].strip() if 0 < line <= len(self.lines) else ""
        return Finding(rule, self.source.rel, line, node.col_offset + 1, message, source, literal)
