"""Finds checks through the product's entry-point group (built-ins use it too) and validates the graph.

A check's `needs` and `after` must name checks that exist, and together they must not form a
cycle (the runner would wait forever); the codes a finding code is explained by must be declared
by some check; a plugin that declares a causal chain places every check on it. A built-in plugin with such a mistake is a usage error
(exit 2); a third-party plugin is left out with a warning, so one bad plugin never stops a run.
"""

from __future__ import annotations

import dataclasses
import re
import types
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any, Iterable

from livekit_doctor import PRODUCT
from livekit_doctor.check import AREA_PREFIX, Check, Plugin
from livekit_doctor.errors import UsageError
from livekit_doctor.product import Product

_ID = re.compile(r"^[A-Z]{2,}[0-9]{3,}$")


class SelectionError(UsageError):
    """--select/--ignore named something no check matches."""


class GraphError(UsageError):
    """A built-in plugin's needs/after/codes name an unknown check, area or finding code, form a cycle,
    or a check has no place on its plugin's causal chain."""


@dataclass
class Registry:
    plugins: list[Plugin] = field(default_factory=list)
    checks: dict[str, Check] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    prog: str = PRODUCT.prog  # load() sets the product's; named in selection errors

    def add(self, plugin: Plugin) -> None:
        """Add a plugin's checks (first provider of an ID wins); `validate` judges the graph afterwards."""
        kept = []
        for chk in plugin.checks:
            if plugin.chain and chk.layer == UNCHAINED:
                message = f"plugin {plugin.name}: check {chk.id} has no place on the plugin's causal chain"
                if plugin.builtin:
                    raise GraphError(message)
                self.warnings.append(message + "; ignored")
            elif not _ID.match(chk.id):
                self.warnings.append(f"plugin {plugin.name}: check ID {chk.id!r} is not of the form LK123; ignored")
            elif chk.id in self.checks:
                self.warnings.append(f"plugin {plugin.name}: check {chk.id} is already provided by "
                                     f"{self.checks[chk.id].plugin}; the first one is kept")
            else:
                self.checks[chk.id] = chk
                kept.append(chk)
        self.plugins.append(dataclasses.replace(plugin, checks=tuple(kept)))

    def validate(self) -> None:
        """Leave out third-party plugins whose needs/after are unknown or cyclic, until the graph holds.

        A problem that involves only built-in checks raises GraphError: the product itself is broken.
        """
        while True:
            problems = graph_problems(self.checks)
            if not problems:
                return
            message, involved = problems[0]
            owners = {p.name: p for p in self.plugins if any(c.id in involved for c in p.checks)}
            third_party = [p for p in owners.values() if not p.builtin]
            if not third_party:
                raise GraphError(f"plugin {', '.join(owners) or '?'}: {message}")
            for plugin in third_party:
                self.warnings.append(f"plugin {plugin.name}: {message}; the plugin is skipped")
                self.plugins.remove(plugin)
                for chk in plugin.checks:
                    self.checks.pop(chk.id, None)

    @property
    def options(self) -> list[Any]:
        seen: set[str] = set()
        out = []
        for plugin in self.plugins:
            for opt in plugin.options:
                if opt.name in seen:
                    continue  # plugins may share the same option (the same wing's --url ...)
                seen.add(opt.name)
                out.append(opt)
        return out

    def select(self, select: Iterable[str] = (), ignore: Iterable[str] = ()) -> list[Check]:
        """Checks matching --select prefixes (all when empty) minus --ignore, plus the needs they pull in.

        `after` entries are resolved to the IDs selected in this run ("area:code" -> LK301 ...).
        """
        select, ignore = _normalise(select), _normalise(ignore)
        for prefix in (*select, *ignore):
            if not any(cid.startswith(prefix) for cid in self.checks):
                raise SelectionError(f"unknown check ID or prefix: {prefix} (see '{self.prog} list')")
        chosen = {cid for cid in self.checks if not select or cid.startswith(select)}
        ignored = {cid for cid in self.checks if ignore and cid.startswith(ignore)}
        wanted = chosen - ignored
        pending = list(wanted)
        while pending:  # a selected check runs with what it needs unless that was ignored explicitly
            for need in self.checks[pending.pop()].needs:
                if need in self.checks and need not in wanted and need not in ignored:
                    wanted.add(need)
                    pending.append(need)
        picked = [self.checks[cid] for cid in sorted(wanted)]
        return [dataclasses.replace(c, after=tuple(a for a in expand_after(c, picked) if a in wanted)) for c in picked]


def expand_after(chk: Check, checks: Iterable[Check]) -> tuple[str, ...]:
    """`after` with every "area:NAME" replaced by the IDs of that area's checks (the check itself excluded)."""
    checks = list(checks)
    out: list[str] = []
    for entry in chk.after:
        if entry.startswith(AREA_PREFIX):
            area = entry[len(AREA_PREFIX):]
            out += [c.id for c in checks if c.area == area and c.id != chk.id]
        else:
            out.append(entry)
    return tuple(dict.fromkeys(out))


def graph_problems(checks: dict[str, Check]) -> list[tuple[str, list[str]]]:
    """Unknown IDs or areas in needs/after, and cycles: (message, the check IDs involved)."""
    problems = []
    areas = {c.area for c in checks.values()}
    for chk in checks.values():
        for need in chk.needs:
            if need not in checks:
                problems.append((f"{chk.id} needs {need}, which no plugin provides", [chk.id]))
        for declared in chk.codes:
            for cause in declared.explained_by:
                owner = checks.get(cause.split(".", 1)[0])
                if owner is None or cause not in owner.code_names:
                    problems.append((f"{chk.id}.{declared.name} is explained by {cause}, a finding code no plugin "
                                     "declares", [chk.id]))
        for entry in chk.after:
            if entry.startswith(AREA_PREFIX):
                if entry[len(AREA_PREFIX):] not in areas:
                    problems.append((f"{chk.id} runs after {entry}, an area no check has", [chk.id]))
            elif entry not in checks:
                problems.append((f"{chk.id} runs after {entry}, which no plugin provides", [chk.id]))
    if problems:
        return problems
    edges = {cid: [d for d in (*c.needs, *expand_after(c, checks.values())) if d in checks]
             for cid, c in checks.items()}
    cycle = _find_cycle(edges)
    return [(f"cycle in needs/after: {' -> '.join(cycle)}", cycle)] if cycle else []


def _find_cycle(edges: dict[str, list[str]]) -> list[str]:
    """One cycle as a closed path of IDs (iterative depth-first search), or [] when there is none."""
    state: dict[str, int] = {}  # 1 on the current path, 2 finished
    for start in sorted(edges):
        if state.get(start):
            continue
        path, stack = [start], [iter(edges[start])]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(edges[nxt]))
    return []


def _normalise(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        out.extend(part.strip().upper() for part in value.split(",") if part.strip())
    return tuple(out)


def plugin_from_object(name: str, obj: Any, *, builtin: bool = False) -> Plugin:
    """Accept a module (CHECKS, OPTIONS, DOCS_DIR, DOCS_URL, CHAIN), a Plugin, a Check, or a list of Checks.

    The plugin's docs location and each check's layer on its causal chain are stamped here, once.
    """
    if isinstance(obj, Plugin):
        plugin = obj
    elif isinstance(obj, Check):
        plugin = Plugin(name=name, checks=(obj,))
    elif isinstance(obj, types.ModuleType):
        docs = getattr(obj, "DOCS_DIR", None)
        plugin = Plugin(name=name, checks=tuple(getattr(obj, "CHECKS", ())), options=tuple(getattr(obj, "OPTIONS", ())),
                        docs_dir=Path(docs) if docs else None, docs_url=getattr(obj, "DOCS_URL", ""),
                        chain=tuple(getattr(obj, "CHAIN", ())))
    elif isinstance(obj, (list, tuple)):
        plugin = Plugin(name=name, checks=tuple(obj))
    else:
        raise TypeError(f"entry point gives {type(obj).__name__}, expected a module, Plugin or Check")
    checks = tuple(dataclasses.replace(c, plugin=name, docs_dir=plugin.docs_dir, docs_url=plugin.docs_url,
                                       layer=chain_layer(c.id, plugin.chain))
                   for c in plugin.checks)
    return dataclasses.replace(plugin, name=name, checks=checks, builtin=builtin)


UNCHAINED = 1000  # checks of plugins that declare no chain rank after every chained one


def chain_layer(check_id: str, chain: tuple[str, ...]) -> int:
    """Index of the longest chain prefix the ID starts with (LK404 in ("LK4", "LK404") is layer 1)."""
    matches = [(len(prefix), i) for i, prefix in enumerate(chain) if check_id.startswith(prefix)]
    return max(matches)[1] if matches else UNCHAINED


def _distribution(ep: EntryPoint) -> str | None:
    dist = getattr(ep, "dist", None)
    return dist.name if dist is not None else None


def load(product: Product) -> Registry:
    """Load every plugin, built-ins first (so a plugin re-using one of their IDs is the one ignored).

    A third-party plugin that fails to import becomes a warning, never a crash.
    """
    registry = Registry(prog=product.prog)
    found = sorted(entry_points(group=product.check_group),
                   key=lambda ep: (not product.is_builtin(_distribution(ep)), ep.name))
    for ep in found:
        dist = _distribution(ep)
        name = f"{dist}:{ep.name}" if dist else ep.name
        builtin = product.is_builtin(dist)
        try:
            plugin = plugin_from_object(name, ep.load(), builtin=builtin)
        except Exception as exc:  # a broken third-party plugin must not take the doctor down
            if builtin:
                raise
            registry.warnings.append(f"plugin {name} failed to load: {type(exc).__name__}: {exc}")
            continue
        registry.add(plugin)
    registry.validate()
    return registry
