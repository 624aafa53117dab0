"""What a value is in LiveKit terms (a `Kind`), and what attribute access and calls make of it.

Kinds follow a value through the code: `api.LiveKitAPI` is a class, calling it gives an object,
its `.room` a service, `.create_room` a method, calling that a coroutine. Rules compare these
typed values; nothing decodes prefixed strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, get_args

from livekit_doctor.checks.codescan.knowledge import SERVICES, SUBMODULES, Knowledge

What = Literal["module", "class", "obj", "service", "maybe_service", "method", "coro", "sync", "func"]
WHATS = frozenset(get_args(What))


@dataclass(frozen=True, slots=True)
class Kind:
    """A value's kind (`what`) and the dotted name it answers to.

    Kind("service", "room") is `lkapi.room`; Kind("maybe_service", "room") is `x.room` on a receiver
    of unknown type; methods and their results are named owner.member: Kind("coro", "room.create_room").
    """

    what: What
    name: str

    def __post_init__(self) -> None:
        if self.what not in WHATS:
            raise ValueError(f"unknown kind of value {self.what!r}: one of {sorted(WHATS)}")

    @property
    def owner(self) -> str:
        """What a method belongs to: "room", "rtc.Room", "" for a method of an unknown receiver."""
        return self.name.rpartition(".")[0]

    @property
    def member(self) -> str:
        return self.name.rpartition(".")[2]

    @property
    def is_instance(self) -> bool:
        """Worth remembering in a variable or `self.<attr>`: an object or a LiveKitAPI service."""
        return self.what in ("obj", "service")


# Kinds are built for every attribute and call the pass resolves, often the same few again:
# one instance each is kept (a frozen dataclass is costly to create, a cache hit is not).
_kind = lru_cache(maxsize=4096)(Kind)
LIVEKIT = Kind("module", "livekit")
LIVEKIT_API = Kind("module", "livekit.api")
ASYNCIO = Kind("module", "asyncio")
LIVEKIT_API_CLIENT = Kind("obj", "LiveKitAPI")
RUN_UNTIL_COMPLETE = Kind("method", "run_until_complete")
# Methods recognised on receivers of unknown type (an event loop, a TaskGroup).
LOOP_METHODS = {"run_until_complete": RUN_UNTIL_COMPLETE, "create_task": Kind("method", "create_task")}
IMPORTABLE = {"livekit", "livekit.api", "livekit.rtc", "asyncio"}  # modules whose names are followed
ACCESS_TOKEN = Kind("obj", "AccessToken")
RUNNERS = {Kind("func", "asyncio.run"), RUN_UNTIL_COMPLETE}  # run a coroutine to completion
SCHEDULERS = {*(Kind("func", f"asyncio.{name}") for name in (
    "create_task", "ensure_future", "gather", "wait", "wait_for", "shield", "run_coroutine_threadsafe")),
    LOOP_METHODS["create_task"], *RUNNERS}  # take a coroutine and see that it runs


def attribute(base: Kind | None, attr: str, sdk: Knowledge) -> Kind | None:
    """What `<base>.<attr>` is."""
    if base is None:  # a receiver of unknown type: `x.room` may be a LiveKitAPI service
        return LOOP_METHODS.get(attr) or (_kind("maybe_service", attr) if attr in SERVICES else None)
    what, name = base.what, base.name
    if what == "maybe_service":
        return _kind("method", f"{name}.{attr}") if sdk.is_service_method(name, attr) else None
    if what == "module" and (name in IMPORTABLE or name.startswith("livekit.")):
        return module_member(name, attr)
    if what == "obj" and name.startswith("livekit."):  # a class of another distribution: not modelled
        return attribute(None, attr, sdk)
    if what == "obj" or what == "service":  # (is_instance, spelt out: this runs for every attribute)
        if what == "obj" and name == "LiveKitAPI":
            return _kind("service", attr) if attr in SERVICES else _kind("method", f"LiveKitAPI.{attr}")
        return _kind("method", f"{name}.{attr}")
    return RUN_UNTIL_COMPLETE if attr == "run_until_complete" else None


def followed(module: str | None) -> bool:
    """A module whose names the pass follows: asyncio and every `livekit.*` (whichever distribution)."""
    return module is not None and (module in IMPORTABLE or module.startswith("livekit."))


def module_member(module: str, attr: str) -> Kind:
    """`<module>.<attr>`, or the name `from <module> import <attr>` binds, for a `followed` module.

    Under `livekit` a lower-case name is a subpackage (api, rtc, agents, plugins, blingfire...: each
    distribution's own), a capitalised one a class (which only the third-party package has there).
    """
    if module == "asyncio":
        return _kind("func", f"asyncio.{attr}")
    if module == "livekit.api":
        return _kind("class", attr)
    if module == "livekit.rtc":
        return _kind("class", f"rtc.{attr}")
    lower = attr in SUBMODULES or not attr[:1].isupper()
    if module == "livekit":
        return _kind("module", f"livekit.{attr}") if lower else _kind("class", attr)
    return _kind("module", f"{module}.{attr}") if lower else _kind("class", f"{module}.{attr}")


def called(func: Kind | None, sdk: Knowledge) -> Kind | None:
    """What calling `func` returns: an object, a coroutine, a plain (sync) value, or unknown."""
    if func is None:
        return None
    if func.what == "class":
        return _kind("obj", func.name)
    if func.what != "method":
        return None
    owner, method = func.owner, func.member
    if owner in SERVICES:
        return _kind("coro" if sdk.service_call_is_async(owner, method) else "sync", func.name)
    if owner == "LiveKitAPI" and method == "aclose":
        return _kind("coro", func.name)
    if owner == "AccessToken":
        return _kind("sync", func.name) if method == "to_jwt" else ACCESS_TOKEN  # the builder returns itself
    if (owner, method) in (("TokenVerifier", "verify"), ("WebhookReceiver", "receive")):  # as the probe found them
        return _kind("coro" if sdk.methods.get(func.name) == "async" else "sync", func.name)
    if owner == "RoomServiceClient" and sdk.family == "third-party":
        return _kind("sync", func.name)
    if owner == "rtc.Room" and method in ("connect", "disconnect"):
        return _kind("coro", func.name)
    return None
