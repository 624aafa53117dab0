"""Who closes each `LiveKitAPI()`: the holder it is stored in, the close that counts, the paths around it.

Run once per module after the main pass, on its constructions. A client is closed by `async with`,
by `aclose()` on what holds it (a local in the same function, `self.<attr>` in any method, a
module-level name anywhere in the project), or by whoever it is handed to (returned, yielded,
stored elsewhere, given to another object): those get the benefit of the doubt as long as the
project closes anything at all. A local closed after a `return` or `raise` that can skip the close
(not in a `finally`) is closed on one path only, and so is one closed after an `await` that can
raise, outside any `try` (an SDK call the server refuses raises TwirpError), except in a script (a
module calling asyncio.run() at its top level) or its entry point (`main`, what asyncio.run() runs),
where the exception ends the program anyway.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator

from livekit_doctor.checks.codescan.facts import Construction, Lifetime, Project
from livekit_doctor.checks.codescan.files import no_pause, paced

SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
ASYNC_DEF = re.compile(r"async[ \t]+def[ \t]+(\w+)")  # at a line's start, module level: importable by name
PLAIN_DEF = re.compile(r"^def[ \t]+(\w+)(.*?)(?=^[^\s#)]|\Z)", re.MULTILINE | re.DOTALL)  # a module-level def's text
CONSTRUCTS = re.compile(r"\bLiveKitAPI\s*\(")
RUNS = {"run", "run_until_complete"}
ACLOSE = re.compile(r"\.\s*aclose\s*\(")
CLOSED_NAME = re.compile(r"(\.?)\s*(\w+)\s*\)?\s*$")  # the name just before `.aclose(`, after a dot or not


def project_of(texts: dict[str, str], pause: Callable[[], None] = no_pause) -> Project:
    """What the project's files (relative path -> text) say, read from their text (no parse, but every
    file three times: `pause` runs before each)."""
    names: set[str] = set()
    attrs: set[str] = set()
    closes = False  # any aclose() at all, e.g. `app["lkapi"].aclose()` for a client kept in a container
    for text in paced(texts.values(), pause):
        for match in ACLOSE.finditer(text) if "aclose" in text else ():
            closes = True
            name = CLOSED_NAME.search(text, max(0, match.start() - 100), match.start())
            if name:
                (attrs if name[1] else names).add(name[2])
    packages = frozenset(rel.split("/")[0].removesuffix(".py") for rel in texts)
    wrappers = frozenset(f"{_module(rel)}:{name}" for rel, text in paced(texts.items(), pause)
                         if "async def" in text and ("livekit" in text or "livekit" in text.lower())
                         for name in _module_async_defs(text))
    # (literals tested first: a pattern starting with one is scanned for fast, one starting with \b or ^ is not)
    factories = frozenset(f"{_module(rel)}:{name}" for rel, text in paced(texts.items(), pause)
                          if "LiveKitAPI" in text and CONSTRUCTS.search(text)
                          for name, body in PLAIN_DEF.findall(text) if CONSTRUCTS.search(body))
    return Project(frozenset(names), frozenset(attrs),
                   closes or any("async with" in text for text in texts.values()), packages, wrappers, factories)


def _module_async_defs(text: str) -> list[str]:
    return [match[1] for match in ASYNC_DEF.finditer(text) if match.start() == 0 or text[match.start() - 1] == "\n"]


def _module(rel: str) -> str:
    """The name a module is imported by, last component only: "pkg/lk.py" and "pkg/lk/__init__.py" -> "lk"."""
    parts = rel.removesuffix(".py").split("/")
    return parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]


def scope_nodes(scope: ast.AST) -> Iterator[ast.AST]:
    """Every node of one function (or the module) outside the nested functions and classes it defines."""
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, SCOPES):
            stack.extend(ast.iter_child_nodes(node))


def lifetimes(tree: ast.Module, constructions: list[Construction], project: Project) -> list[Lifetime]:
    """One Lifetime per construction not in an `async with`, in source order."""
    wanted = {id(c.node): c for c in constructions if not c.async_with}
    if not wanted:
        return []
    found: dict[int, Lifetime] = {}
    scopes = {id(c.scope): c.scope or tree for c in wanted.values()}  # only where a client is made
    entries = _entry_points(tree)
    for scope in scopes.values():
        _scope(scope, wanted, found, project, entries is None or getattr(scope, "name", None) in entries)
    for key, construction in wanted.items():  # passed straight to a call, in a container...: handed on
        found.setdefault(key, Lifetime(construction.node, "other", "", project.closes_anything, None))
    return sorted(found.values(), key=lambda life: (life.node.lineno, life.node.col_offset))


def _is_close(node: ast.AST) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "aclose"


def _entry_points(tree: ast.Module) -> set[str] | None:
    """`main` and what asyncio.run() runs; None for a script (it calls asyncio.run() at its top level):
    an exception there ends the program, so a client it skips closing does not leak for long."""
    entries = {"main"}
    for stmt in tree.body:
        top = not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        for node in ast.walk(stmt):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Attribute, ast.Name)) and node.args \
                    and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) in RUNS:
                if top:
                    return None
                inner = node.args[0]
                if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name):
                    entries.add(inner.func.id)
    return entries


def _scope(scope: ast.AST, wanted: dict[int, Construction], found: dict[int, Lifetime], project: Project,
           entry: bool) -> None:
    nodes = list(scope_nodes(scope))
    module = isinstance(scope, ast.Module)
    shared = {name for node in nodes if isinstance(node, (ast.Global, ast.Nonlocal)) for name in node.names}
    for node in nodes:
        value = getattr(node, "value", None)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and value is not None:
            for inner in ast.walk(value):
                construction = wanted.get(id(inner))
                if construction is None or id(inner) in found:
                    continue
                if any(kw.arg == "session" for kw in construction.node.keywords):  # the caller owns the session
                    found[id(inner)] = Lifetime(inner, "session", "", True, None)
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found[id(inner)] = _held(inner, targets[0], nodes, module, shared, project, entry)
        elif isinstance(node, (ast.Return, ast.Yield)) and value is not None and id(value) in wanted:
            found[id(value)] = Lifetime(value, "returned", "", project.closes_anything, None)


def _held(node: ast.Call, target: ast.expr, nodes: list[ast.AST], module: bool, shared: set[str],
          project: Project, entry: bool) -> Lifetime:
    if isinstance(target, ast.Attribute):  # closed in any method, or from another module
        name = target.attr
        return Lifetime(node, "self", name, name in project.closed_attrs, None)
    if not isinstance(target, ast.Name):
        return Lifetime(node, "other", "", project.closes_anything, None)
    name = target.id
    if module or name in shared:  # `global _lk; _lk = LiveKitAPI()`: a module-level client made lazily
        return Lifetime(node, "module", name, name in project.closed_names, None, lazy=not module)
    closes, handed = [], False
    finally_ids = {id(n) for t in nodes if isinstance(t, ast.Try) for s in t.finalbody for n in ast.walk(s)}
    for other in nodes:
        if _is_close(other) and isinstance(other.func.value, ast.Name) and other.func.value.id == name:
            closes.append(other)
        elif _hands_on(other, name):
            handed = True
    if handed and not closes:
        return Lifetime(node, "local", name, True, None)
    if not closes:
        return Lifetime(node, "local", name, False, None)
    if any(id(close) in finally_ids for close in closes):
        return Lifetime(node, "local", name, True, None)
    guarded = {id(n) for t in nodes if isinstance(t, ast.Try) and t.handlers for s in t.body for n in ast.walk(s)}
    if any(_in_handler(close, nodes) for close in closes):
        return Lifetime(node, "local", name, True, None)  # closed on the way out of an `except` too
    first = min(close.lineno for close in closes)
    between = [n for n in nodes if node.lineno < getattr(n, "lineno", 0) < first]
    exits = sorted(n.lineno for n in between if isinstance(n, (ast.Return, ast.Raise)))
    raising = [] if entry else sorted(n.lineno for n in between if isinstance(n, ast.Await) and id(n) not in guarded)
    return Lifetime(node, "local", name, True, exits[0] if exits else None, raising[0] if raising else None)


def _in_handler(close: ast.Call, nodes: list[ast.AST]) -> bool:
    """The close sits in an `except` block (`except: await lk.aclose(); raise`)."""
    return any(close is inner for t in nodes if isinstance(t, ast.Try) for h in t.handlers for inner in ast.walk(h))


def _hands_on(node: ast.AST, name: str) -> bool:
    """`name` leaves the function: returned, yielded, stored on an object, entered, given to a closer or a call."""
    def is_name(value: ast.AST | None) -> bool:
        return isinstance(value, ast.Name) and value.id == name

    if isinstance(node, (ast.Return, ast.Yield, ast.YieldFrom)):
        return is_name(node.value) or (isinstance(node.value, ast.Tuple) and any(map(is_name, node.value.elts)))
    if isinstance(node, ast.Assign) and is_name(node.value):
        return any(not isinstance(t, ast.Name) for t in node.targets)
    if isinstance(node, ast.AsyncWith):
        return any(is_name(item.context_expr) for item in node.items)
    if isinstance(node, ast.Call):
        return any(is_name(arg) for arg in [*node.args, *(kw.value for kw in node.keywords)])
    return False
