"""One pass over a module's AST that knows what each expression is in LiveKit terms.

Values are tracked as short "kinds": `module:livekit.api`, `class:LiveKitAPI`,
`obj:LiveKitAPI`, `obj:service:room`, `method:room.create_room`, `coro:room.create_room`,
`sync:AccessToken.to_jwt` ... through imports, aliases, local and module-level names and
`self.<attr>` attributes, so that `self._api.room.create_room(...)` is recognised.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from livekit_doctor.checks.codescan.files import SourceFile
from livekit_doctor.checks.codescan.knowledge import SERVICES, SUBMODULES, Knowledge

SUPPRESS = re.compile(r"#\s*livekit-doctor:\s*ignore(?:\[(?P<ids>[A-Z0-9,\s]+)\])?", re.IGNORECASE)
RUNNERS = {"func:asyncio.run", "method:run_until_complete"}
SCHEDULERS = {"func:asyncio.create_task", "func:asyncio.ensure_future", "func:asyncio.gather", "func:asyncio.wait",
              "func:asyncio.wait_for", "func:asyncio.shield", "func:asyncio.run_coroutine_threadsafe",
              "method:create_task", *RUNNERS}
CREDENTIAL_ARGS = {"LiveKitAPI": (1, 2), "AccessToken": (0, 1), "TokenVerifier": (0, 1), "RoomServiceClient": (1, 2)}
DEV_LITERALS = {"devkey", "secret"}


@dataclass(frozen=True)
class Finding:
    rule: str
    path: str
    line: int
    col: int
    message: str
    source: str = ""
    literal: str = ""  # a hard-coded secret, for the redactor; never shown


@dataclass
class _Function:
    is_async: bool
    names: dict[str, str] = field(default_factory=dict)
    pending: dict[str, ast.AST] = field(default_factory=dict)  # stored coroutines not yet used


class Analyzer(ast.NodeVisitor):
    def __init__(self, source: SourceFile, knowledge: Knowledge) -> None:
        self.src, self.k = source, knowledge
        self.module_names: dict[str, str] = {}
        self.self_attrs: dict[str, str] = {}
        self.stack: list[_Function] = []
        self.class_depth = 0
        self.findings: list[Finding] = []
        self.handled: set[int] = set()  # calls already judged by their parent (awaited, scheduled, statement)
        self.async_with_items: set[int] = set()
        self.def_names: list[str] = []  # enclosing functions, innermost last
        self.class_names: list[str] = []
        self.has_aclose = False
        self.self_assigns: list[ast.Assign] = []
        for node in ast.walk(source.tree):  # the one pre-pass: facts the main pass needs up front
            if isinstance(node, ast.Attribute) and node.attr == "aclose":
                self.has_aclose = True
            elif isinstance(node, ast.Assign) and any(
                    isinstance(t, ast.Attribute) and isinstance(t.value, ast.Name) and t.value.id == "self"
                    for t in node.targets):
                self.self_assigns.append(node)
        self.import_time_calls = self._import_time_calls()

    # --- names and kinds -------------------------------------------------------------------------

    def lookup(self, name: str) -> str | None:
        for frame in reversed(self.stack):
            if name in frame.names:
                return frame.names[name] or None
        return self.module_names.get(name) or None

    def bind(self, name: str, kind: str | None) -> None:
        """Record what a name holds; an unknown value still shadows outer names ("")."""
        names = self.stack[-1].names if self.stack else self.module_names
        names[name] = kind or ""

    def kind(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        if isinstance(node, ast.Attribute):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and node.attr in self.self_attrs:
                return self.self_attrs[node.attr]
            return self._attribute(self.kind(node.value), node.attr)
        if isinstance(node, ast.Call):
            return self._called(self.kind(node.func), node)
        return None

    def _attribute(self, base: str | None, attr: str) -> str | None:
        if base is None:  # a receiver of unknown type: `x.room` may be a LiveKitAPI service
            return {"run_until_complete": "method:run_until_complete", "create_task": "method:create_task"}.get(
                attr, f"maybe:service:{attr}" if attr in SERVICES else None)
        if base.startswith("maybe:service:"):
            service = base[14:]
            return f"method:{service}.{attr}" if self.k.is_service_method(service, attr) else None
        if base == "module:livekit":
            return f"module:livekit.{attr}" if attr in SUBMODULES else f"class:{attr}"
        if base == "module:livekit.api":
            return f"class:{attr}"
        if base == "module:livekit.rtc":
            return f"class:rtc.{attr}"
        if base == "module:asyncio":
            return f"func:asyncio.{attr}"
        if base == "obj:LiveKitAPI":
            return f"obj:service:{attr}" if attr in SERVICES else f"method:LiveKitAPI.{attr}"
        if base.startswith("obj:service:"):
            return f"method:{base[12:]}.{attr}"
        if base.startswith("obj:"):
            return f"method:{base[4:]}.{attr}"
        return "method:run_until_complete" if attr == "run_until_complete" else None

    def _called(self, func: str | None, node: ast.Call) -> str | None:
        if func is None:
            return None
        if func.startswith("class:"):
            return f"obj:{func[6:]}"
        if not func.startswith("method:"):
            return None
        owner, _, method = func[7:].rpartition(".")
        if owner in SERVICES:
            return f"{'coro' if self.k.service_call_is_async(owner, method) else 'sync'}:{owner}.{method}"
        if owner == "LiveKitAPI" and method == "aclose":
            return "coro:LiveKitAPI.aclose"
        if owner == "AccessToken":
            return "sync:AccessToken.to_jwt" if method == "to_jwt" else "obj:AccessToken"
        if owner == "TokenVerifier" and method == "verify":
            return "sync:TokenVerifier.verify"
        if owner == "RoomServiceClient" and self.k.family == "third-party":
            return f"sync:RoomServiceClient.{method}"
        if owner == "rtc.Room" and method in ("connect", "disconnect"):
            return f"coro:rtc.Room.{method}"
        return None

    # --- findings ---------------------------------------------------------------------------------

    def report(self, rule: str, node: ast.AST, message: str, literal: str = "") -> None:
        line = getattr(node, "lineno", 0)
        lines = self.src.lines
        source = lines[line - 1].strip() if 0 < line <= len(lines) else ""
        match = SUPPRESS.search(lines[line - 1]) if 0 < line <= len(lines) else None
        if match and (not match.group("ids") or rule in {i.strip().upper() for i in match.group("ids").split(",")}):
            return
        self.findings.append(Finding(rule, self.src.rel, line, getattr(node, "col_offset", 0) + 1, message, source,
                                     literal))

    @property
    def in_async(self) -> bool:
        return bool(self.stack) and self.stack[-1].is_async

    @property
    def in_sync_def(self) -> bool:
        return bool(self.stack) and not self.stack[-1].is_async

    # --- module pre-pass --------------------------------------------------------------------------

    def _import_time_calls(self) -> set[str]:
        """Names of functions and classes called while the module is imported (module level)."""
        called = set()
        for stmt in self.src.tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                continue
            for node in ast.walk(stmt):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                    called.add(node.func.id)
        return called

    def run(self) -> list[Finding]:
        for stmt in self.src.tree.body:  # module-level names first: functions above may use them
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                self._import(stmt, report=False)
        for stmt in self.src.tree.body:
            if isinstance(stmt, ast.Assign):
                value = self.kind(stmt.value)
                for target in stmt.targets:
                    if isinstance(target, ast.Name) and value and value.startswith("obj:"):
                        self.module_names[target.id] = value
        for node in self.self_assigns:  # self.<attr> = LiveKitAPI() anywhere in the module
            value = self.kind(node.value)
            for target in node.targets:
                if isinstance(target, ast.Attribute) and value and value.startswith("obj:"):
                    self.self_attrs[target.attr] = value
        self.visit(self.src.tree)
        return self.findings

    # --- visitors ---------------------------------------------------------------------------------

    def _import(self, node: ast.Import | ast.ImportFrom, report: bool = True) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "livekit" or alias.name.startswith("livekit."):
                    if alias.asname:
                        self.bind(alias.asname, f"module:{alias.name}")
                        if report and alias.name == "livekit.api":
                            self._check_api_import(node)
                    else:
                        self.bind("livekit", "module:livekit")
                elif alias.name == "asyncio":
                    self.bind(alias.asname or "asyncio", "module:asyncio")
            return
        module = node.module or ""
        for alias in node.names:
            name = alias.asname or alias.name
            if module == "livekit":
                if alias.name in SUBMODULES:
                    self.bind(name, f"module:livekit.{alias.name}")
                    if report and alias.name == "api":
                        self._check_api_import(node)
                else:
                    self.bind(name, f"class:{alias.name}")
                    if report:
                        self._check_top_level_name(node, alias.name)
            elif module == "livekit.api":
                self.bind(name, f"class:{alias.name}")
                if report and self.k.api_importable:
                    self._check_api_name(node, alias.name)
            elif module == "livekit.rtc":
                self.bind(name, f"class:rtc.{alias.name}")
            elif module == "asyncio":
                self.bind(name, f"func:asyncio.{alias.name}")
        if report and module == "livekit.api":
            self._check_api_import(node)

    def _check_api_import(self, node: ast.AST) -> None:
        if self.k.api_importable:
            return
        why = {"third-party": "the installed livekit package is the third-party synchronous one, whose "
                              "livekit/__init__.py hides the official livekit.api",
               "rtc-only": "only the livekit rtc package is installed, not livekit-api",
               "none": "no LiveKit server SDK is installed"}.get(self.k.family, "livekit.api does not import")
        self.report("LK301", node, f"`livekit.api` cannot be imported here: {why} (pip install livekit-api)")

    def _check_top_level_name(self, node: ast.AST, name: str) -> None:
        if self.k.family == "official":
            extra = {"RoomServiceClient": " (the Node/Go SDK name; use api.LiveKitAPI and its .room service)",
                     "VideoGrant": " (use `from livekit import api` then api.VideoGrants)"}.get(
                name, f" (use `from livekit import api` then api.{name})")
            self.report("LK301", node, f"`from livekit import {name}`: the official livekit package has no "
                                       f"top-level {name}{extra}")

    def _check_api_name(self, node: ast.AST, name: str) -> None:
        if not self.k.has(name) or (self.k.family == "official" and name in ("RoomServiceClient", "VideoGrant")):
            better = {"RoomServiceClient": "LiveKitAPI (its .room service)", "VideoGrant": "VideoGrants",
                      "RoomService": "LiveKitAPI (its .room service)"}.get(name, "")
            self.report("LK301", node, f"{name} does not exist in the installed {self.k.describe()}"
                                       + (f"; use {better}" if better else ""))

    def visit_Import(self, node: ast.Import) -> None:
        self._import(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._import(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if isinstance(node.value, ast.Name) and self.stack and node.value.id in self.stack[-1].pending:
            stored = self.stack[-1].pending.pop(node.value.id)  # `created.name` on a coroutine: AttributeError
            self.report("LK302", stored, f"the coroutine stored in `{node.value.id}` is never awaited: "
                                         f"`{node.value.id}.{node.attr}` (line {node.lineno}) raises AttributeError")
            return
        base = self.kind(node.value)
        if base == "module:livekit.api" and node.attr in ("RoomServiceClient", "VideoGrant", "RoomService") \
                and isinstance(node.ctx, ast.Load):
            self._check_api_name(node, node.attr)
        self.generic_visit(node)

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, is_async: bool) -> None:
        self.def_names.append(node.name)
        self.stack.append(_Function(is_async=is_async))
        for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
            declared = self.kind(arg.annotation) if arg.annotation is not None else None  # lk: api.LiveKitAPI
            self.bind(arg.arg, f"obj:{declared[6:]}" if declared and declared.startswith("class:") else None)
        for stmt in node.body:
            self.visit(stmt)
        frame = self.stack.pop()
        self.def_names.pop()
        for name, where in frame.pending.items():
            self.report("LK302", where, f"the coroutine stored in `{name}` is never awaited, so the call never runs")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._function(node, is_async=False)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        for d in node.decorator_list:
            self.visit(d)
        self._function(node, is_async=True)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.stack.append(_Function(is_async=False))
        self.visit(node.body)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.class_depth += 1
        self.class_names.append(node.name)
        self.generic_visit(node)
        self.class_names.pop()
        self.class_depth -= 1

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        for item in node.items:
            self.async_with_items.add(id(item.context_expr))
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self.kind(node.value)
        self.visit(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.bind(target.id, value)
                if value and value.startswith("coro:") and self.in_async and isinstance(node.value, ast.Call):
                    self.stack[-1].pending[target.id] = node
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
                if value and value.startswith("obj:"):
                    self.self_attrs[target.attr] = value
                self.visit(target)
            else:
                self.visit(target)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            for frame in reversed(self.stack):
                if node.id in frame.pending:
                    del frame.pending[node.id]  # awaited, scheduled, returned or passed on: used
                    break

    def visit_Expr(self, node: ast.Expr) -> None:
        call = node.value
        if isinstance(call, ast.Call):
            kind = self.kind(call)
            if kind and kind.startswith("coro:") and not self.in_sync_def:
                self.handled.add(id(call))
                self.report("LK302", call, f"{kind[5:]}() returns a coroutine that is never awaited, so the call "
                                           "never happens (RuntimeWarning: coroutine ... was never awaited)")
        self.generic_visit(node)

    def visit_Await(self, node: ast.Await) -> None:
        value = node.value
        if isinstance(value, ast.Call):
            self.handled.add(id(value))
            kind = self.kind(value)
            if kind and kind.startswith("sync:"):
                self.report("LK303", node, f"{kind[5:]}() is synchronous in the installed {self.k.describe()}: "
                                           "awaiting its result raises TypeError")
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if isinstance(node.value, ast.Call):
            self.handled.add(id(node.value))  # the caller awaits it
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = self.kind(node.func)
        kind = self._called(func, node)
        if func in SCHEDULERS:
            self.handled.update(id(a) for a in node.args)
        if func in RUNNERS and self.in_async:
            name = "asyncio.run()" if func == "func:asyncio.run" else "run_until_complete()"
            self.report("LK307", node, f"{name} inside `async def`: a loop is already running, so it raises "
                                       "RuntimeError")
        if kind and kind.startswith("coro:") and self.in_sync_def and id(node) not in self.handled:
            self.report("LK306", node, f"{kind[5:]}() is async but called from a plain `def`: it cannot be awaited "
                                       "here and never runs")
        if kind == "obj:LiveKitAPI":
            self._construction(node)
        if func and func.startswith("class:") and func[6:] in CREDENTIAL_ARGS:  # a constructor call
            self._literals(node, func[6:])
        self.generic_visit(node)

    def _construction(self, node: ast.Call) -> None:
        where = None
        if not self.stack:
            where = "in a class body" if self.class_depth else "at module level (import time)"
        elif self.in_sync_def and self._enclosing_called_at_import():
            where = "in a plain function that runs at import time"
        if where:
            severity = "raises 'no running event loop'" if self.k.needs_running_loop else \
                "needs a running event loop with aiohttp >= 3.10"
            self.report("LK304", node, f"LiveKitAPI() is created {where}, outside any coroutine: it {severity}")
        if id(node) not in self.async_with_items and not self.has_aclose:
            self.report("LK305", node, "this LiveKitAPI is never closed (no aclose() in the file, not used with "
                                       "`async with`): 'Unclosed client session' at exit")

    def _enclosing_called_at_import(self) -> bool:
        """The innermost function (or the class of an __init__) is called at module level."""
        name = self.def_names[-1]
        if name == "__init__" and self.class_names:
            name = self.class_names[-1]
        return name in self.import_time_calls

    def _literals(self, node: ast.Call, cls: str) -> None:
        positions = CREDENTIAL_ARGS[cls]
        values = [(node.args[i], ("key", "secret")[n]) for n, i in enumerate(positions) if i < len(node.args)]
        values += [(kw.value, kw.arg.split("_")[-1]) for kw in node.keywords if kw.arg in ("api_key", "api_secret")]
        for value, what in values:
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value:
                literal = value.value if what == "secret" and value.value not in DEV_LITERALS else ""
                self.report("LK308", value, f"hard-coded API {what} passed to {cls}()", literal=literal)


def analyze(source: SourceFile, knowledge: Knowledge) -> list[Finding]:
    return Analyzer(source, knowledge).run()
