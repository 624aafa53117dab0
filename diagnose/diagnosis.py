"""The diagnosis: which problems are root causes, which are only their consequences, and in what order.

Pure over Results (each carries `caused_by` and its `layer` on the plugin's causal chain), so a
saved run is diagnosed again exactly as it was. The order is deterministic: root causes by the
worst status they explain, then by layer (most fundamental first), then by check ID.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from livekit_doctor.result import Result, Status


@dataclass(frozen=True)
class Cause:
    """A root cause and what it explains: problems that follow from it, and checks skipped because of it."""

    check_id: str
    consequences: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"check_id": self.check_id, "consequences": list(self.consequences), "skipped": list(self.skipped)}


@dataclass(frozen=True)
class Diagnosis:
    root_causes: tuple[Cause, ...] = ()
    independent: tuple[str, ...] = ()  # warnings that explain nothing and follow from nothing
    consequence_of: dict[str, str] = field(default_factory=dict)  # problem or skip ID -> its root cause

    @property
    def first(self) -> str | None:
        """The check ID a reader should fix first."""
        return self.root_causes[0].check_id if self.root_causes else (self.independent[0] if self.independent else None)

    def to_dict(self) -> dict[str, Any]:
        return {"root_causes": [c.to_dict() for c in self.root_causes], "independent": list(self.independent)}


def _is_problem(result: Result) -> bool:
    return result.status.severity > 0


def _root(check_id: str, by_id: dict[str, Result]) -> str:
    """Follow `caused_by` through problems and skips to where the chain starts.

    Only causes present in this run that are problems (or skips with causes of their own) are
    followed; of several, the most fundamental (lowest layer); a cycle stops where it closes.
    """
    path = [check_id]
    while True:
        result = by_id[check_id]
        live = [c for c in result.caused_by if c in by_id and (_is_problem(by_id[c]) or by_id[c].caused_by)]
        causes = sorted((c for c in live if c not in path), key=lambda c: (by_id[c].layer, c))
        if not causes:
            looped = [c for c in live if c in path]
            if looped:  # a cycle: every member gets the same root, its most fundamental member
                return min(path[path.index(looped[0]):], key=lambda c: (by_id[c].layer, c))
            return check_id
        check_id = causes[0]
        path.append(check_id)


def diagnose(results: Iterable[Result]) -> Diagnosis:
    results = sorted(results, key=lambda r: (r.layer, r.check_id))
    by_id = {r.check_id: r for r in results}
    problems: dict[str, list[str]] = {}  # root -> its consequences
    skips: dict[str, list[str]] = {}
    consequence_of: dict[str, str] = {}
    for r in results:
        if not (_is_problem(r) or (r.status is Status.SKIP and r.caused_by)):
            continue
        root = _root(r.check_id, by_id)
        if not _is_problem(by_id[root]):
            continue  # a skip whose chain ends in no problem (nothing selected to explain it)
        problems.setdefault(root, [])
        if root != r.check_id:
            (problems[root] if _is_problem(r) else skips.setdefault(root, [])).append(r.check_id)
            consequence_of[r.check_id] = root

    def worst(root: str) -> int:
        return max(by_id[cid].status.severity for cid in (root, *problems[root]))

    def rank(root: str) -> tuple[int, int, str]:
        return -worst(root), by_id[root].layer, root

    ordered = sorted(problems, key=rank)
    independent = [root for root in ordered if worst(root) < Status.FAIL.severity and not problems[root]]
    roots = tuple(Cause(root, tuple(problems[root]), tuple(skips.get(root, ()))) for root in ordered
                  if root not in independent)
    return Diagnosis(root_causes=roots, independent=tuple(independent), consequence_of=consequence_of)
