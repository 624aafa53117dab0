"""What the project's code says about its voice agent: the name the worker registers, how the app dispatches.

Reads the files the code scan reads (its file walk and parser), only those that mention agents,
with one small AST pass each. Names are resolved when they are literals, module constants or
`os.environ.get("X", "default")`; anything else is recorded as unknown, never guessed.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from livekit_doctor.checks.plumbing.config.options import wing_options
from livekit_doctor.plugin import Context

MARKERS = (b"livekit.agents", b"livekit import agents", b"agent_name", b"AgentDispatch", b"rtc_session")
WORKER_CALLS = ("WorkerOptions", "ServerOptions")  # ServerOptions: the 1.3+ name, WorkerOptions kept as alias
UNKNOWN = None  # a name set by an expression the scan cannot evaluate


@dataclass(frozen=True)
class Site:
    """One place in the code: a worker's registration, or a dispatch by the app."""

    path: str
    line: int
    how: str  # "WorkerOptions", "rtc_session", "create_dispatch", "token roomConfig", "CreateRoomRequest"
    name: str | None  # the agent name; "" when none is set (automatic dispatch); None when not a literal
    env: str | None = None  # the environment variable that overrides the name, if any
    port: int | None = None  # a worker's health port (WorkerOptions(port=...)), when a literal or env default

    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class AgentCode:
    workers: list[Site] = field(default_factory=list)
    dispatches: list[Site] = field(default_factory=list)
    room_creations: list[Site] = field(default_factory=list)  # create_room(...) calls: rooms the app makes first
    imports_agents: list[str] = field(default_factory=list)  # files importing livekit.agents

    @property
    def in_play(self) -> bool:
        return bool(self.workers or self.dispatches or self.imports_agents)

    def registered_names(self) -> list[str]:
        """Literal names the workers register (explicit dispatch), in file order, unique."""
        return list(dict.fromkeys(w.name for w in self.workers if w.name))


def _literal(node: ast.AST | None, constants: dict[str, ast.AST]) -> tuple[str | None, str | None]:
    """(value, env var) of a name expression: a literal, a module constant, os.environ.get/getenv with a default."""
    if node is None:
        return "", None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("int", "str") \
            and len(node.args) == 1:
        node = node.args[0]
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return str(node.value), None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("get", "getenv") \
            and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
        default = _literal(node.args[1], constants)[0] if len(node.args) > 1 else None
        return default, node.args[0].value
    return UNKNOWN, None


def _keyword(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


def _port(call: ast.Call, constants: dict[str, ast.AST]) -> int | None:
    value, _ = _literal(_keyword(call, "port"), constants)
    return int(value) if value and value.isdigit() else None


def scan_tree(tree: ast.Module, rel: str, found: AgentCode) -> None:
    """Record one parsed module's workers, dispatches and room creations into `found`."""
    constants = {t.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                 for t in node.targets if isinstance(t, ast.Name)}
    create_room_agents: set[int] = set()  # RoomAgentDispatch inside CreateRoomRequest(agents=...); else a token's
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names]
            module = getattr(node, "module", None) or ""
            if module.startswith("livekit.agents") or any(n.startswith("livekit.agents") for n in names) or \
                    (module == "livekit" and "agents" in names):
                found.imports_agents.append(rel)
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node)
        if callee == "CreateRoomRequest":
            agents = _keyword(node, "agents")
            if agents is not None:
                create_room_agents.update(id(n) for n in ast.walk(agents) if isinstance(n, ast.Call))
        if callee == "create_room":
            found.room_creations.append(Site(rel, node.lineno, "create_room", None))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        callee = _callee(node)
        if callee in WORKER_CALLS or (callee == "AgentServer" and _keyword(node, "agent_name") is not None):
            name, env = _literal(_keyword(node, "agent_name"), constants)
            found.workers.append(Site(rel, node.lineno, callee, name, env, _port(node, constants)))
        elif callee == "rtc_session":
            name, env = _literal(_keyword(node, "agent_name"), constants)
            found.workers.append(Site(rel, node.lineno, "rtc_session", name, env))
        elif callee == "CreateAgentDispatchRequest":
            name, env = _literal(_keyword(node, "agent_name"), constants)
            found.dispatches.append(Site(rel, node.lineno, "create_dispatch", name, env))
        elif callee == "RoomAgentDispatch":
            name, env = _literal(_keyword(node, "agent_name"), constants)
            how = "CreateRoomRequest" if id(node) in create_room_agents else "token roomConfig"
            found.dispatches.append(Site(rel, node.lineno, how, name, env))


def scan_project(root: Path, exclude: tuple[str, ...] = ()) -> AgentCode:
    from livekit_doctor.checks.codescan.files import parse, python_files, read

    found = AgentCode()
    paths, _ = python_files(root, exclude)
    for path in paths:
        data = read(path)
        if isinstance(data, str) or not any(m in data for m in MARKERS):
            continue
        source = parse(path, root)
        if not isinstance(source, str):
            scan_tree(source.tree, source.rel, found)
    return found


async def agent_code(ctx: Context) -> AgentCode:
    """The project's agent facts, scanned once per run off the event loop."""
    import asyncio

    async def run() -> AgentCode:
        return await asyncio.to_thread(scan_project, ctx.project_dir, wing_options(ctx).exclude)

    return await ctx.amemo("agent.code", run)


def agent_to_test(ctx: Context, code: AgentCode) -> str | None:
    """The agent name to dispatch: --agent, else what the worker registers ("" = automatic), else what the app
    dispatches; None when no agent is in play."""
    if wing_options(ctx).agent:
        return wing_options(ctx).agent
    for worker in code.workers:
        if worker.env and ctx.env.get(worker.env):
            return ctx.env[worker.env]
        if worker.name is not None:
            return worker.name
    named = [d.name for d in code.dispatches if d.name]
    return named[0] if named else None
