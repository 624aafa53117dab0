"""The shared analysis pass: walk one module once, resolve names to kinds, record facts.

Names are followed through imports, aliases, local and module-level names, parameter
annotations and `self.<attr>` attributes, so that `self._api.room.create_room(...)` is known to
return a coroutine. What the pass records (`facts.ModuleFacts`) is what every rule reads; it
knows nothing about rules, so a rule costs no extra walk.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from livekit_doctor.checks.codescan.credentials import assigned, env_default, passed
from livekit_doctor.checks.codescan.facts import (Await, Call, Collected, Construction, Context, Function, Import,
                                                  LocalCall, ModuleFacts, Project, Reference, StoredCoroutine, Use)
from livekit_doctor.checks.codescan.files import SourceFile
from livekit_doctor.checks.codescan.kinds import (ASYNCIO, LIVEKIT, LIVEKIT_API_CLIENT, RUNNERS, SCHEDULERS, Kind,
                                                  attribute, called, followed, module_member)
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.lifetimes import lifetimes, project_of

DEPENDS = re.compile(r"\bDepends\(\s*(?:[\w.]+\.)?(\w+)\s*\)")  # FastAPI dependencies, by function name
SYNC_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+(?:flask|django)\b", re.MULTILINE)
STATEMENT_LISTS = ("body", "orelse", "finalbody", "handlers", "cases")
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
SYNC_FRAMEWORKS = ("flask", "django")  # their views, factories and hooks run with no event loop


def build(source: SourceFile, sdk: Knowledge, project: Project | None = None) -> ModuleFacts:
    """The facts of one parsed module, judged against the installed SDK (and what the project says)."""
    project = project or project_of({source.rel: source.text})
    return _Pass(source, sdk, project).run()


@dataclass
class _Frame:
    is_async: bool
    names: dict[str, Kind | None] = field(default_factory=dict)  # None: unknown, still shadows outer names
    pending: dict[str, ast.Assign] = field(default_factory=dict)  # stored coroutines not used yet
    collected: dict[str, ast.Call] = field(default_factory=dict)  # lists of coroutines not read yet


class _Pass(ast.NodeVisitor):
    def __init__(self, source: SourceFile, sdk: Knowledge, project: Project) -> None:
        self.sdk = sdk
        self.project = project
        self.project_names: dict[str, str] = {}  # name -> the project module it is imported from
        self.tree = source.tree
        self.module_names: dict[str, Kind | None] = {}
        self.self_attrs: dict[str, Kind] = {}
        self.stack: list[_Frame] = []
        self.def_names: list[str] = []  # enclosing functions, innermost last
        self.def_frames: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self.class_names: list[str] = []
        self.uses: dict[int, Use] = {}  # call node id -> what its parent does with it, set by the parent
        self.async_with_items: set[int] = set()
        self.self_assigns: list[ast.Assign] = []
        self.guarded = 0  # depth of `try:` bodies that catch ImportError
        self.ready_defs: set[int] = set()  # Django AppConfig.ready()
        text = source.text
        self.depends = set(DEPENDS.findall(text)) if "Depends" in text else set()
        self.sync_framework = bool(SYNC_IMPORT.search(text))
        for node in _statements(self.tree):  # the one pre-pass, over statements only: self.<attr> = ...
            if isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                    for t in node.targets):
                self.self_assigns.append(node)
        self.facts = ModuleFacts(source, _import_time_calls(self.tree), project=project)

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
        self.facts.lifetimes = lifetimes(self.tree, self.facts.constructions, self.project)
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
        elif node.level == 0 and followed(node.module):  # `from .livekit import x` is the app's own module
            for alias in node.names:
                kind = module_member(node.module, alias.name)
                self.bind(alias.asname or alias.name, kind)
                bound.append(kind)
        elif node.module and (node.level > 0 or node.module.split(".")[0] in self.project.packages):
            origin = node.module.rpartition(".")[2]
            self.project_names.update({alias.asname or alias.name: f"{origin}:{alias.name}" for alias in node.names})
        return tuple(bound)

    # --- visitors ---------------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        """NodeVisitor's, with each class's method looked up once (not a string built and a getattr per node)."""
        method = _METHODS.get(node.__class__)
        if method is None:
            method = _METHODS[node.__class__] = getattr(_Pass, f"visit_{node.__class__.__name__}", _Pass.generic_visit)
        method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        """NodeVisitor's (every field in order, lists item by item), without its generator per node."""
        for name in node._fields:
            value = getattr(node, name, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Import(self, node: ast.Import) -> None:
        kinds = self._import(node)
        if kinds:
            self.facts.imports.append(Import(node, None, kinds, self.guarded > 0))

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        kinds = self._import(node)
        if kinds:
            self.facts.imports.append(Import(node, node.module, kinds, self.guarded > 0))

    def visit_Try(self, node: ast.Try) -> None:
        probe = any(h.type is None or any(isinstance(n, (ast.Name, ast.Attribute)) and
                                          (n.id if isinstance(n, ast.Name) else n.attr) in IMPORT_ERRORS
                                          for n in ast.walk(h.type)) for h in node.handlers)
        self.guarded += probe
        for stmt in node.body:
            self.visit(stmt)
        self.guarded -= probe
        for stmt in [*node.handlers, *node.orelse, *node.finalbody]:
            self.visit(stmt)

    visit_TryStar = visit_Try

    def visit_BinOp(self, node: ast.BinOp) -> None:
        """Iteratively down the left spine: a 500-term `a + b + ...` is 500 levels deep."""
        rights = []
        while isinstance(node, ast.BinOp):
            rights.append(node.right)
            node = node.left
        self.visit(node)
        for right in reversed(rights):
            self.visit(right)

    def visit_If(self, node: ast.If) -> None:
        """Iteratively along an `elif` chain, as deep as it is long otherwise."""
        while True:
            self.visit(node.test)
            for stmt in node.body:
                self.visit(stmt)
            if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):
                node = node.orelse[0]
                continue
            for stmt in node.orelse:
                self.visit(stmt)
            return

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
        self.def_frames.append(node)
        first_call = len(self.facts.calls)
        self.stack.append(_Frame(is_async=isinstance(node, ast.AsyncFunctionDef)))
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            declared = self.kind(arg.annotation) if arg.annotation is not None else None  # lk: api.LiveKitAPI
            self.bind(arg.arg, Kind("obj", declared.name) if declared is not None and declared.what == "class"
                      else None)
        for stmt in node.body:
            self.visit(stmt)
        frame = self.stack.pop()
        self.def_names.pop()
        self.def_frames.pop()
        self.facts.stored_coroutines += [StoredCoroutine(where, name, None) for name, where in frame.pending.items()]
        self.facts.collected += [Collected(where, name) for name, where in frame.collected.items()]
        inside = self.facts.calls[first_call:]
        self.facts.functions[node.name] = Function(
            node, frame.is_async, next((c.node for c in inside if c.func in RUNNERS), None),
            any(c.kind is not None and c.kind.what == "coro" for c in inside))

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.stack.append(_Frame(is_async=False))
        self.visit(node.body)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        if any("AppConfig" in ast.unparse(base) for base in node.bases):  # Django: ready() runs with no loop
            self.ready_defs.update(id(f) for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "ready")
        self.class_names.append(node.name)
        self.generic_visit(node)
        self.class_names.pop()

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        self.async_with_items.update(id(item.context_expr) for item in node.items)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.facts.credentials += assigned(node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.facts.credentials += assigned(node)
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
                if node.id in frame.collected:
                    del frame.collected[node.id]  # the list is read: gathered, returned, passed on
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
        target = node.func
        if func is None and isinstance(target, ast.Attribute) and target.attr == "append" \
                and isinstance(target.value, ast.Name) and self.stack and self.stack[-1].is_async:
            if any(isinstance(arg, ast.Call) and (k := self.kind(arg)) is not None and k.what == "coro"
                   for arg in node.args):  # `tasks.append(lk.room.delete_room(...))`
                self.stack[-1].collected.setdefault(target.value.id, node)
                for arg in node.args:
                    self.visit(arg)
                return
        if func is None and (isinstance(target, ast.Name) or isinstance(target, ast.Attribute) and
                             isinstance(target.value, ast.Name) and target.value.id in ("self", "cls")):
            name = target.id if isinstance(target, ast.Name) else target.attr
            origin = self.project_names.get(name) if isinstance(target, ast.Name) else None
            self.facts.local_calls.append(LocalCall(node, name, self.context, use, origin))
        if func is None:
            secret = env_default(node) if len(node.args) == 2 else None
            if secret is not None:
                self.facts.credentials.append(secret)
        else:
            kind = called(func, self.sdk)
            context = self.context
            classes = tuple((i, k) for i, arg in enumerate(node.args) if isinstance(arg, (ast.Name, ast.Attribute))
                            and (k := self.kind(arg)) is not None and k.what == "class")
            call = Call(node, func, kind, context, use, classes)
            self.facts.calls.append(call)
            self.facts.credentials += passed(call)
            if func in SCHEDULERS:
                for arg in node.args:
                    self._use(arg, "scheduled")
            if kind == LIVEKIT_API_CLIENT:
                self.facts.constructions.append(Construction(
                    node, context, self._function_name(), id(node) in self.async_with_items, self._no_loop(),
                    self.def_frames[-1] if self.def_frames else None))
        self.generic_visit(node)

    def _no_loop(self) -> str | None:
        """Why the enclosing plain `def` runs with no event loop, if the code says so."""
        if not self.def_frames or self.stack[-1].is_async:
            return None
        if id(self.def_frames[-1]) in self.ready_defs:
            return "in Django's AppConfig.ready(), which runs with no event loop"
        if self.def_names[-1] in self.depends:
            return "in a plain-def FastAPI dependency, which runs in a worker thread with no event loop"
        if self.sync_framework:
            return "in a plain `def` of a Flask/Django app, which runs with no event loop"
        return None

    def _function_name(self) -> str | None:
        """The innermost enclosing def, or the class whose `__init__` it is (what a caller names)."""
        if not self.def_names:
            return None
        name = self.def_names[-1]
        return self.class_names[-1] if name == "__init__" and self.class_names else name


_METHODS: dict[type, Callable[[_Pass, Any], None]] = {}  # node class -> its visit_ method (the same for every pass)


def _import_time_calls(tree: ast.Module) -> frozenset[str]:
    """Names of functions and classes called while the module is imported (at module level)."""
    return frozenset(node.func.id for stmt in tree.body
                     if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                     for node in ast.walk(stmt) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name))


def _statements(tree: ast.Module) -> Iterator[ast.AST]:
    """Every statement, nested ones too, without descending into expressions (a fraction of ast.walk's nodes)."""
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        yield node
        for name in STATEMENT_LISTS:
            stack.extend(getattr(node, name, ()))
