"""LK301's `RoomServiceClient` (the Node/Go name, and the third-party package's class) with livekit-api
installed: every client becomes a LiveKitAPI whose `.room` service takes request objects, awaited,
created lazily and closed on shutdown (module level) or in `async with` (a local).

Applied only when every use is understood: each client constructed on a line of its own and used
only as `client.<method>(...)` with a method and arguments that map onto a request, inside async code.
"""

from __future__ import annotations

import libcst as cst

from livekit_doctor.checks.fixes.awaits import Planned, await_call
from livekit_doctor.checks.fixes.clients import async_with, lazy, lifespan
from livekit_doctor.checks.fixes.imports import add_import, drop_name
from livekit_doctor.checks.fixes.model import FileContext
from livekit_doctor.checks.fixes.rewrite import Group, expression
from livekit_doctor.checks.fixes.source import dotted

NAME = "RoomServiceClient"
# method (snake_case, or the Node SDK's camelCase) -> (room-service method, request class, positional fields)
METHODS = {
    "create_room": ("create_room", "CreateRoomRequest", ("name",)),
    "list_rooms": ("list_rooms", "ListRoomsRequest", ("names",)),
    "delete_room": ("delete_room", "DeleteRoomRequest", ("room",)),
    "update_room_metadata": ("update_room_metadata", "UpdateRoomMetadataRequest", ("room", "metadata")),
    "list_participants": ("list_participants", "ListParticipantsRequest", ("room",)),
    "get_participant": ("get_participant", "RoomParticipantIdentity", ("room", "identity")),
    "remove_participant": ("remove_participant", "RoomParticipantIdentity", ("room", "identity")),
    "mute_published_track": ("mute_published_track", "MuteRoomTrackRequest", ("room", "identity", "track_sid", "muted")),
    "update_participant": ("update_participant", "UpdateParticipantRequest", ("room", "identity", "metadata")),
}
METHODS.update({"".join(w.title() if i else w for i, w in enumerate(k.split("_"))): v for k, v in list(METHODS.items())})
# the fields each request has (livekit-protocol), so that a keyword the request lacks is never written
FIELDS = {
    "CreateRoomRequest": {"name", "empty_timeout", "departure_timeout", "max_participants", "node_id", "metadata",
                          "min_playout_delay", "max_playout_delay", "sync_streams", "room_preset", "egress", "agents"},
    "ListRoomsRequest": {"names"}, "DeleteRoomRequest": {"room"}, "UpdateRoomMetadataRequest": {"room", "metadata"},
    "ListParticipantsRequest": {"room"}, "RoomParticipantIdentity": {"room", "identity"},
    "MuteRoomTrackRequest": {"room", "identity", "track_sid", "muted"},
    "UpdateParticipantRequest": {"room", "identity", "metadata", "permission", "name", "attributes"},
}
CTOR_KEYWORDS = {"host": "url", "url": "url", "api_key": "api_key", "api_secret": "api_secret"}


def plan_room_service_client(ctx: FileContext, out: Planned) -> None:
    findings = [f for f in ctx.findings if f.rule == "LK301" and NAME in f.message]
    if not findings:
        return
    group = Group(("LK301",), "RoomServiceClient -> LiveKitAPI (its .room service, request objects, awaited, "
                              "closed)", tuple(f.line for f in findings))
    why = _migrate(ctx, group)
    if why is None:
        out.add(group, findings)
    else:
        out.notes.update({f: why for f in findings})


def _migrate(ctx: FileContext, group: Group) -> str | None:
    """The edits, or why the migration is not safe here."""
    source = ctx.source
    refs: list[cst.CSTNode] = []
    for line, alias in _imports(ctx):
        refs += source.occurrences(alias)[0]
        group.on(line, drop_name(NAME, None))
    refs += [n for n in source.positions if isinstance(n, cst.Attribute) and n.attr.value == NAME
             and dotted(n.value) in ({ctx.api} if ctx.has_api else set()) | {"livekit.api"}]
    if not ctx.has_api:
        group.on(source.module, add_import(_api_import(ctx), stdlib=False))
    for ref in refs:
        call = source.parent(ref)
        if not (isinstance(call, cst.Call) and call.func is ref):
            return f"RoomServiceClient is used at line {source.line_of(ref)} other than by constructing it"
        assign = source.parent(call)
        line = source.parent(assign) if isinstance(assign, cst.Assign) else None
        if not isinstance(line, cst.SimpleStatementLine) or len(assign.targets) != 1 \
                or not isinstance(assign.targets[0].target, cst.Name):
            return f"the client built at line {source.line_of(ref)} is not assigned to a plain name"
        name = assign.targets[0].target.value
        ctor = _constructor(ctx, call)
        if ctor is None:
            return f"RoomServiceClient(...) at line {source.line_of(ref)} has arguments LiveKitAPI does not take"
        why = _calls(ctx, group, name, source.function(line))
        if why:
            return why
        if source.top_level(line):
            private = lazy(ctx, group, line, name, ctor, f"{ctx.api}.LiveKitAPI")
            if private is None or not lifespan(ctx, group, private, lazy_client=True):
                return ("the module-level client is used outside async code, or there is no FastAPI app to close it "
                        "in: create LiveKitAPI inside async code and close it on shutdown by hand")
        elif not async_with(ctx, group, line, name, ctor):
            return f"the client built at line {source.line_of(ref)} is not a local of an async def"
    return None


def _api_import(ctx: FileContext) -> str:
    return "from livekit import api" + (f" as {ctx.api}" if ctx.api != "api" else "")


def _imports(ctx: FileContext) -> list[tuple[cst.SimpleStatementLine, str]]:
    """Top-level `from livekit[.api] import RoomServiceClient [as X]` lines and the name each binds."""
    found = []
    for stmt in ctx.source.module.body:
        if isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1 and isinstance(stmt.body[0], cst.ImportFrom):
            small = stmt.body[0]
            if not small.relative and dotted(small.module) in ("livekit", "livekit.api") \
                    and not isinstance(small.names, cst.ImportStar):
                found += [(stmt, alias.evaluated_alias or NAME) for alias in small.names if dotted(alias.name) == NAME]
    return found


def _constructor(ctx: FileContext, call: cst.Call) -> str | None:
    """`<api>.LiveKitAPI(<the same arguments>)` as code, or None when an argument has no LiveKitAPI counterpart."""
    args = []
    for arg in call.args:
        if arg.star or (arg.keyword is not None and arg.keyword.value not in CTOR_KEYWORDS):
            return None
        code = ctx.source.module.code_for_node(arg.value)
        args.append(f"{CTOR_KEYWORDS[arg.keyword.value]}={code}" if arg.keyword is not None else code)
    if len(args) > 3:
        return None
    return f"{ctx.api}.LiveKitAPI({', '.join(args)})"


def _calls(ctx: FileContext, group: Group, name: str, scope: cst.FunctionDef | None) -> str | None:
    """Every `name.<method>(...)` -> `name.room.<method>(<api>.<Request>(...))`, awaited."""
    source = ctx.source
    for read in source.occurrences(name)[0]:
        if scope is not None and source.function(read) is not scope:
            continue
        attr = source.parent(read)
        call = source.parent(attr) if isinstance(attr, cst.Attribute) else None
        where = f"line {source.line_of(read)}"
        if not (isinstance(call, cst.Call) and call.func is attr) or attr.attr.value not in METHODS:
            return f"the client is used at {where} other than by calling a room-service method on it"
        method, request, positional = METHODS[attr.attr.value]
        keywords = _request_keywords(ctx, call, positional, FIELDS[request])
        if keywords is None:
            return f"the arguments at {where} do not map onto api.{request}"
        if not ctx.is_async(source.function(call)):
            return f"the call at {where} is not inside `async def`, so it cannot be awaited"
        group.on(call, _rebuild_call(ctx, method, request, keywords))
        if not isinstance(source.parent(call), cst.Await):
            await_call(group, ctx, call)
    return None


def _request_keywords(ctx: FileContext, call: cst.Call, positional: tuple[str, ...],
                      fields: set[str]) -> list[tuple[str, str]] | str | None:
    """(field, code) for each argument; the code of the one request already given; None if unmappable."""
    code = ctx.source.module.code_for_node
    if len(call.args) == 1 and call.args[0].keyword is None and isinstance(call.args[0].value, cst.Call) \
            and dotted(call.args[0].value.func).rpartition(".")[2] in FIELDS:
        return code(call.args[0].value)
    out = []
    for i, arg in enumerate(call.args):
        if arg.star:
            return None
        field = arg.keyword.value if arg.keyword is not None else (positional[i] if i < len(positional) else None)
        if field not in fields:
            return None
        out.append((field, code(arg.value)))
    return out


def _rebuild_call(ctx: FileContext, method: str, request: str, keywords: list[tuple[str, str]] | str):
    def rebuild(node: cst.CSTNode) -> cst.CSTNode:
        assert isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute)
        service = cst.Attribute(value=node.func.value, attr=cst.Name("room"))
        made = keywords if isinstance(keywords, str) else \
            f"{ctx.api}.{request}({', '.join(f'{field}={value}' for field, value in keywords)})"
        return node.with_changes(func=cst.Attribute(value=service, attr=cst.Name(method)),
                                 args=[cst.Arg(value=expression(made))])

    return rebuild
