"""Finds checks through the `livekit_doctor.checks` entry-point group (built-ins use it too)."""

from __future__ import annotations

import dataclasses
import re
import types
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Iterable

from livekit_doctor.check import Check, Plugin

GROUP = "livekit_doctor.checks"
_ID = re.compile(r"^[A-Z]{2,}[0-9]{3,}$")


class SelectionError(ValueError):
    """--select/--ignore named something no check matches (a usage error, exit 2)."""


@dataclass
class Registry:
    plugins: list[Plugin] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def add(self, plugin: Plugin) -> None:
        self.plugins.append(plugin)
        for chk in plugin.checks:
            if not _ID.match(chk.id):
                self.warnings.append(f"plugin {plugin.name}: check ID {chk.id!r} is not of the form LK123; ignored")
            elif chk.id in self.checks:
                first = self.checks[chk.id].plugin
                self.warnings.append(
                    f"plugin {plugin.name}: check {chk.id} is already provided by {first}; the first one is kept"
                )
            else:
                self.checks[chk.id] = chk

    @property
    def options(self) -> list[Any]:
        seen: set[str] = set()
        out = []
        for plugin in self.plugins:
            for opt in plugin.options:
                if opt.name in seen:
                    self.warnings.append(f"plugin {plugin.name}: option --{opt.name} is already defined; ignored")
                    continue
                seen.add(opt.name)
                out.append(opt)
        return out

    def select(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Check]:
        """Checks matching --select prefixes (all when empty) minus --ignore, plus the needs they pull in."""
        select, ignore = _normalise(select), _normalise(ignore)
        for prefix in (*select, *ignore):
            if not any(cid.startswith(prefix) for cid in self.checks):
                raise SelectionError(f"unknown check ID or prefix: {prefix} (see 'livekit-doctor list')")
        chosen = {cid for cid in self.checks if not select or cid.startswith(select)}
        ignored = {cid for cid in self.checks if ignore and cid.startswith(ignore)}
        wanted = chosen - ignored
        pending = list(wanted)
        while pending:  # a selected check runs with what it needs unless that was ignored explicitly
            for need in self.checks[pending.pop()].needs:
                if need in self.checks and need not in wanted and need not in ignored:
                    wanted.add(need)
                    pending.append(need)
        return [self.checks[cid] for cid in sorted(wanted)]


def _normalise(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(out)


def plugin_from_object(name: str, obj: Any) -> Plugin:
    """Accept a module (CHECKS, OPTIONS, DOCS_DIR), a Plugin, a Check, or a list of Checks."""
    if isinstance(obj, Plugin):
        plugin = obj
    elif isinstance(obj, Check):
        plugin = Plugin(name=name, checks=(obj,))
    elif isinstance(obj, types.ModuleType):
        docs = getattr(obj, "DOCS_DIR", None)
        plugin = Plugin(
            name=name,
            checks=tuple(getattr(obj, "CHECKS", ())),
            options=tuple(getattr(obj, "OPTIONS", ())),
            docs_dir=Path(docs) if docs else None,
        )
    elif isinstance(obj, (list, tuple)):
        plugin = Plugin(name=name, checks=tuple(obj))
    else:
        raise TypeError(f"entry point gives {type(obj).__name__}, expected a module, Plugin or Check")
    checks = tuple(
        dataclasses.replace(c, plugin=c.plugin or plugin.name, docs_dir=c.docs_dir or plugin.docs_dir)
        for c in plugin.checks
    )
    return dataclasses.replace(plugin, checks=checks)


def _plugin_name(ep: EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name}:{ep.name}" if dist is not None else ep.name


def _builtins_first(ep: EntryPoint) -> tuple[bool, str]:
    """Built-ins load first so that a plugin re-using one of their IDs is the one ignored."""
    return (not ep.value.startswith("livekit_doctor.checks"), ep.name)


def load(group: str = GROUP) -> Registry:
    """Load every plugin; one that fails to import becomes a warning, never a crash."""
    registry = Registry()
    for ep in sorted(entry_points(group=group), key=_builtins_first):
        name = _plugin_name(ep)
        try:
            registry.add(plugin_from_object(name, ep.load()))
        except Exception as exc:  # a broken third-party plugin must not take the doctor down
            registry.warnings.append(f"plugin {name} failed to load: {type(exc).__name__}: {exc}")
    return registry
