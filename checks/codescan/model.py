"""The shared analysis pass: walk one module once, resolve names to kinds, record facts.

Names are followed through imports, aliases, local and module-level names, parameter
annotations and `self.<attr>` attributes, so that `self._api.room.create_room(...)` is known to
return a coroutine. What the pass records (`facts.ModuleFacts`) is what every rule reads; it
knows nothing about rules, so a rule costs no extra walk.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Literal

from livekit_doctor.checks.codescan.facts import (Await, Call, Construction, Context, Credential, Import,
                                                  ModuleFacts, Reference, StoredCoroutine, Use)
from livekit_doctor.checks.codescan.files import SourceFile
from livekit_doctor.checks.codescan.kinds import (ASYNCIO, IMPORTABLE, LIVEKIT, LIVEKIT_API_CLIENT, SCHEDULERS,
                                                  Kind, attribute, called, module_member)
from livekit_doctor.checks.codescan.knowledge import Knowledge

# Positions of the API key and secret among each constructor's arguments.
CREDENTIAL_ARGS = {"LiveKitAPI": (1, 2), "AccessToken": (0, 1), "TokenVerifier": (0, 1), "RoomServiceClient": (1, 2)}
CREDENTIALS: tuple[Literal["key"], Literal["secret"]] = ("key", "secret")
CREDENTIAL_KEYWORDS: dict[str | None, Literal["key", "secret"]] = {"api_key": "key", "api_secret": "secret"}


def build(source: SourceFile, sdk: Knowledge) -> ModuleFacts:
    """The facts of one parsed module, judged against the installed SDK."""
    return _Pass(source, sdk).run()


@dataclass
class _Frame:
    is_async: bool
    names: dict[str, Kind | None] = field(default_factory=dict)  # None: unknown, still shadows outer names
    pending: dict[str, ast.Assign] = field(default_factory=dict)  # stored coroutines not used yet


class _Pass(ast.NodeVisitor):
    def __init__(self, source: SourceFile, sdk: Knowledge) -> None:
        self.sdk = sdk
        self.tree = source.tree
        self.module_names: dict[str, Kind | None] = {}
        self.self_attrs: dict[str, Kind] = {}
        self.stack: list[_Frame] = []
        self.def_names: list[str] = []  # enclosing functions, innermost last
        self.class_names: list[str] = []
        self.uses: dict[int, Use] = {}  # call node id -> what its parent does with it, set by the parent
        self.async_with_items: set[int] = set()
        self.self_assigns: list[ast.Assign] = []
        mentions_aclose = False
        for node in ast.walk(self.tree):  # the one pre-pass: facts the main pass needs up front
            if isinstance(node, ast.Attribute) and node.attr == "aclose":
                mentions_aclose = True
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                    for t in node.targets):
                self.self_assigns.append(node)
        self.facts = ModuleFacts(source, _import_time_calls(self.tree), mentions_aclose)

    def run(self) -> ModuleFacts:
        body = self.tree.body
        for stmt in body:  # module-level names first: functions above may use them
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt)
        for stmt in body:
            if isinstance(stmt, ast.Assign):
                value = self.kind(stmt.value)
                if value is not None and value.is_instance:
                    for target in stmt.targets:
                        if isinstance(target, ast.Name):
                            self.module_names[target.id] = value
        for node in self.self_assigns:  # self.<attr> = LiveKitAPI() anywhere in the module
            value = self.kind(node.value)
            if value is not None and value.is_instance:
                for target in node.targets:
                    if isinstance(target, ast.Attribute):
                        self.self_attrs[target.attr] = value
        self.visit(self.tree)
        return self.facts

    # --- names and kinds -------------------------------------------------------------------------

    def lookup(self, name: str) -> Kind | None:
        for frame in reversed(self.stack):
            if name in frame.names:
                return frame.names[name]
        return self.module_names.get(name)

    def bind(self, name: str, kind: Kind | None) -> None:
        (self.stack[-1].names if self.stack else self.module_names)[name] = kind

    def kind(self, node: ast.AST) -> Kind | None:
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            value = node.value
            if isinstance(value, ast.Name) and value.id in ("self", "cls") and node.attr in self.self_attrs:
                return self.self_attrs[node.attr]
            return attribute(self.kind(value), node.attr, self.sdk)
        if isinstance(node, ast.Call):
            return called(self.kind(node.func), self.sdk)
        return None

    @property
    def context(self) -> Context:
        if self.stack:
            return "async" if self.stack[-1].is_async else "def"
        return "class" if self.class_names else "module"

    def _import(self, node: ast.Import | ast.ImportFrom) -> tuple[Kind, ...]:
        """Bind the LiveKit and asyncio names the statement imports; what they hold, in order."""
        bound = []
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "livekit" or alias.name.startswith("livekit."):
                    name, kind = (alias.asname, Kind("module", alias.name)) if alias.asname else ("livekit", LIVEKIT)
                elif alias.name == "asyncio":
                    name, kind = alias.asname or "asyncio", ASYNCIO
                else:
                    continue
                self.bind(name, kind)
                bound.append(kind)
        elif node.module in IMPORTABLE:
            for alias in node.names:
                kind = module_member(node.module, alias.name)
                self.bind(alias.asname or alias.name, kind)
                bound.append(kind)
        return tuple(bound)

    # --- visitors ---------------------------------------------------------------------------------

    def visit_Import(self, node: ast.Import) -> None:
        kinds = self._import(node)
        if kinds:
            self.facts.imports.append(Import(node, None, kinds))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        kinds = self._import(node)
        if kinds:
            self.facts.imports.append(Import(node, node.module, kinds))

    def visit_Attribute(self, node: ast.Attribute) -> None:
        value = node.value
        if isinstance(value, ast.Name) and self.stack and value.id in self.stack[-1].pending:
            stored = self.stack[-1].pending.pop(value.id)  # `created.name` on a coroutine: AttributeError
            self.facts.stored_coroutines.append(StoredCoroutine(stored, value.id, node))
            return
        if isinstance(node.ctx, ast.Load):
            base = self.kind(value)
            if base is not None and base.what == "module":
                self.facts.references.append(Reference(node, base.name, node.attr))
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self.def_names.append(node.name)
        self.stack.append(_Frame(is_async=isinstance(node, ast.AsyncFunctionDef)))
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            declared = self.kind(arg.annotation) if arg.annotation is not None else None  # lk: api.LiveKitAPI
            self.bind(arg.arg, Kind("obj", declared.name) if declared is not None and declared.what == "class"
                      else None)
        for stmt in node.body:
            self.visit(stmt)
        frame = self.stack.pop()
        self.def_names.pop()
        self.facts.stored_coroutines += [StoredCoroutine(where, name, None) for name, where in frame.pending.items()]

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.stack.append(_Frame(is_async=False))
        self.visit(node.body)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.class_names.append(node.name)
        self.generic_visit(node)
        self.class_names.pop()

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self.async_with_items.update(id(item.context_expr) for item in node.items)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self.kind(node.value)
        self.visit(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bind(target.id, value)
                if value is not None and value.what == "coro" and self.context == "async" \
                        and isinstance(node.value, ast.Call):
                    self.stack[-1].pending[target.id] = node
                continue
            if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self" \
                    and value is not None and value.is_instance:
                self.self_attrs[target.attr] = value
            self.visit(target)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            for frame in reversed(self.stack):
                if node.id in frame.pending:
                    del frame.pending[node.id]  # awaited, scheduled, returned or passed on: used
                    break

    def visit_Constant(self, node: ast.Constant) -> None:
        """Nothing below a literal; skips NodeVisitor's per-literal lookup of deprecated visit_Num/visit_Str."""

    def visit_Expr(self, node: ast.Expr) -> None:
        self._use(node.value, "statement")
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        if isinstance(node.value, ast.Call):
            self.uses[id(node.value)] = "awaited"
            self.facts.awaits.append(Await(node, self.kind(node.value)))
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        self._use(node.value, "returned")
        self.generic_visit(node)

    def _use(self, node: ast.AST | None, use: Use) -> None:
        if isinstance(node, ast.Call):
            self.uses[id(node)] = use

    def visit_Call(self, node: ast.Call) -> None:
        func = self.kind(node.func)
        use = self.uses.pop(id(node), "")
        if func is not None:
            kind = called(func, self.sdk)
            context = self.context
            self.facts.calls.append(Call(node, func, kind, context, use))
            if func in SCHEDULERS:
                for arg in node.args:
                    self._use(arg, "scheduled")
            if kind == LIVEKIT_API_CLIENT:
                self.facts.constructions.append(
                    Construction(node, context, self._function_name(), id(node) in self.async_with_items))
            if func.what == "class" and func.name in CREDENTIAL_ARGS:
                self._credentials(node, func.name)
        self.generic_visit(node)

    def _function_name(self) -> str | None:
        """The innermost enclosing def, or the class whose `__init__` it is (what a caller names)."""
        if not self.def_names:
            return None
        name = self.def_names[-1]
        return self.class_names[-1] if name == "__init__" and self.class_names else name

    def _credentials(self, node: ast.Call, cls: str) -> None:
        args = node.args
        values: list[tuple[ast.expr, Literal["key", "secret"]]] = [
            (args[i], what) for i, what in zip(CREDENTIAL_ARGS[cls], CREDENTIALS) if i < len(args)]
        values += [(kw.value, CREDENTIAL_KEYWORDS[kw.arg]) for kw in node.keywords if kw.arg in CREDENTIAL_KEYWORDS]
        for value, what in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                self.facts.credentials.append(Credential(value, cls, what, value.value))


def _import_time_calls(tree: ast.Module) -> frozenset[str]:
    """Names of functions and classes called while the module is imported (at module level)."""
    return frozenset(node.func.id for stmt in tree.body
                     if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     for node in ast.walk(stmt) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))
