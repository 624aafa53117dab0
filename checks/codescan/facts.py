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
    code: str = ""  # which of the rule's CODES ("api-not-importable"); "" for the rule's usual one


@dataclass(frozen=True, slots=True)
class Import:
    """An import statement binding LiveKit or asyncio names."""

    node: ast.Import | ast.ImportFrom
    module: str | None  # the X of `from X import ...`; None for `import ...`
    kinds: tuple[Kind, ...]  # what each name it binds holds, in order
    guarded: bool = False  # inside `try:` with an `except ImportError` (a deliberate feature probe)


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
    classes: tuple[tuple[int, Kind], ...] = ()  # positional arguments that are LiveKit classes, not instances


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
    no_loop: str | None = None  # why the enclosing plain def runs with no event loop (a sync framework's code)
    scope: ast.FunctionDef | ast.AsyncFunctionDef | None = None  # the innermost enclosing def; None: module level


@dataclass(frozen=True, slots=True)
class StoredCoroutine:
    """A coroutine assigned to a name in `async def` and never awaited, scheduled or passed on."""

    node: ast.Assign
    name: str
    attribute: ast.Attribute | None  # `name.attr` read instead, or None: the name is never read


@dataclass(frozen=True, slots=True)
class Credential:
    """A non-empty string literal given as the API key or secret.

    `where` says how: "passed to LiveKitAPI()", "the default of os.getenv('LIVEKIT_API_SECRET')",
    "assigned to LIVEKIT_API_SECRET".
    """

    node: ast.Constant
    where: str
    what: Literal["key", "secret"]
    value: str


@dataclass(frozen=True, slots=True)
class Lifetime:
    """A LiveKitAPI() not in `async with`: what holds it and whether something closes it."""

    node: ast.Call
    holder: Literal["local", "self", "module", "returned", "session", "other"]
    name: str  # the local, attribute or module-level name holding it ("" otherwise)
    closed: bool
    early_exit: int | None  # a `return`/`raise` line between creation and the close, outside `finally`
    raising: int | None = None  # an unguarded `await` between creation and the close: if it raises, no close
    lazy: bool = False  # a module-level client made inside a function (`global` name): a cached singleton


@dataclass(frozen=True, slots=True)
class LocalCall:
    """A call of a plain name or `self.<name>`: maybe one of the project's own functions."""

    node: ast.Call
    name: str
    context: Context
    use: Use
    origin: str | None  # "module:name" it was imported as from a project module, None if not imported


@dataclass(frozen=True, slots=True)
class Function:
    """A function this module defines (the last one of each name)."""

    node: ast.FunctionDef | ast.AsyncFunctionDef
    is_async: bool
    runner: ast.Call | None  # an asyncio.run()/run_until_complete() it makes, if any
    calls_sdk: bool  # it calls an async LiveKit method


@dataclass(frozen=True, slots=True)
class Collected:
    """Coroutines appended to a list in `async def` whose list is never read again (never gathered)."""

    node: ast.Call  # the first `<name>.append(<coroutine>)`
    name: str


@dataclass(frozen=True)
class Project:
    """What the project's other files say, for the verdicts one module cannot reach alone."""

    closed_names: frozenset[str] = frozenset()  # N of every `N.aclose(` in the project
    closed_attrs: frozenset[str] = frozenset()  # A of every `<x>.A.aclose(` in the project
    closes_anything: bool = False  # some aclose() or `async with` anywhere in the project
    packages: frozenset[str] = frozenset()  # the project's top-level modules and packages
    async_wrappers: frozenset[str] = frozenset()  # "module:name" of module-level `async def`s in LiveKit files
    client_factories: frozenset[str] = frozenset()  # "module:name" of module-level plain `def`s making a LiveKitAPI


@dataclass
class ModuleFacts:
    source: SourceFile
    import_time_calls: frozenset[str]  # names of functions and classes called at module level
    imports: list[Import] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)
    awaits: list[Await] = field(default_factory=list)
    constructions: list[Construction] = field(default_factory=list)
    stored_coroutines: list[StoredCoroutine] = field(default_factory=list)
    credentials: list[Credential] = field(default_factory=list)
    lifetimes: list[Lifetime] = field(default_factory=list)
    local_calls: list[LocalCall] = field(default_factory=list)
    functions: dict[str, Function] = field(default_factory=dict)
    collected: list[Collected] = field(default_factory=list)
    project: Project = field(default_factory=lambda: Project())

    @cached_property
    def lines(self) -> list[str]:
        return self.source.lines

    def finding(self, rule: str, node: ast.stmt | ast.expr, message: str, literal: str = "", code: str = "") -> Finding:
        """A finding of `rule` at `node`, with its source line (a secret's literal masked there); `code`: which of
        the rule's CODES, when not its usual one."""
        line = node.lineno
        source = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        if literal:  # adjacent literals ("ab" "cd") never appear whole in the line: mask the node's text
            raw = source.encode()  # ast columns count UTF-8 bytes
            end = node.end_col_offset if node.end_lineno == line and node.end_col_offset is not None else len(raw)
            source = (raw[:node.col_offset] + b"'***'" + raw[end:]).decode(errors="replace")
        return Finding(rule, self.source.rel, line, node.col_offset + 1, message, source.strip(), literal, code)
