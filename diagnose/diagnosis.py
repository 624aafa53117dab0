"""The diagnosis: which findings are root causes, which are only their consequences, and in what order.

Pure over Results: each problem finding carries `caused_by` (finding codes) and its check's `layer`
on the plugin's causal chain, so a saved run is diagnosed again exactly as it was. Only findings of
warning severity or worse take part: a note (hygiene) is never a root cause and explains nothing.
The order is deterministic whatever order the results arrived in: root causes by the worst
severity they explain, then by layer (most fundamental first), then by code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from livekit_doctor.result import Finding, Result, Severity, Status


@dataclass(frozen=True)
class Cause:
    """A root cause (a finding code) and what it explains: findings that follow from it, and checks
    skipped because of it."""

    code: str
    check_id: str
    consequences: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "check_id": self.check_id, "consequences": list(self.consequences),
                "skipped": list(self.skipped)}


@dataclass(frozen=True)
class Diagnosis:
    root_causes: tuple[Cause, ...] = ()
    independent: tuple[str, ...] = ()  # codes of warnings that explain nothing and follow from nothing
    consequence_of: dict[str, str] = field(default_factory=dict)  # finding code or skipped check ID -> root code

    @property
    def first(self) -> str | None:
        """The finding code a reader should fix first."""
        return self.root_causes[0].code if self.root_causes else (self.independent[0] if self.independent else None)

    def root_of(self, result: Result) -> str | None:
        """The root cause a result follows from, when it is not one itself: a skip's, or that of every
        one of its problems (a check with one finding of its own and one consequence is a root)."""
        if result.status is Status.SKIP:
            return self.consequence_of.get(result.check_id)
        roots = {self.consequence_of.get(f.code) for f in result.problems}
        return roots.pop() if len(roots) == 1 and None not in roots else None

    def to_dict(self) -> dict[str, Any]:
        return {"root_causes": [c.to_dict() for c in self.root_causes], "independent": list(self.independent)}


@dataclass(frozen=True)
class _Node:
    finding: Finding
    layer: int

    @property
    def key(self) -> tuple[int, str]:
        return self.layer, self.finding.code


def problem_nodes(results: Iterable[Result]) -> dict[str, _Node]:
    """Every problem finding by code (of a code reported twice, the worse), in (layer, code) order."""
    nodes: dict[str, _Node] = {}
    for r in results:
        for f in r.problems:
            known = nodes.get(f.code)
            if known is None or f.severity.rank > known.finding.severity.rank:
                nodes[f.code] = _Node(f, r.layer)
    return dict(sorted(nodes.items(), key=lambda item: item[1].key))


def _root(code: str, nodes: dict[str, _Node]) -> str:
    """Follow `caused_by` through this run's problem findings to where the chain starts: of several
    causes the most fundamental (lowest layer); a cycle's members share its most fundamental member."""
    path = [code]
    while True:
        live = [c for c in nodes[code].finding.caused_by if c in nodes]
        causes = sorted((c for c in live if c not in path), key=lambda c: nodes[c].key)
        if not causes:
            looped = [c for c in live if c in path]
            if looped:
                return min(path[path.index(looped[0]):], key=lambda c: nodes[c].key)
            return code
        code = causes[0]
        path.append(code)


def _skip_root(check_id: str, by_id: dict[str, Result], nodes: dict[str, _Node], seen: set[str]) -> str | None:
    """A skip's root: the most fundamental root among the problems of the checks it waited for."""
    seen.add(check_id)
    roots = []
    for need in by_id[check_id].caused_by:
        cause = by_id.get(need)
        if cause is None or need in seen:
            continue
        if cause.status is Status.SKIP:
            root = _skip_root(need, by_id, nodes, seen)
            roots += [root] if root else []
        else:
            roots += [_root(f.code, nodes) for f in cause.problems if f.code in nodes]
    return min(roots, key=lambda c: nodes[c].key, default=None)


def diagnose(results: Iterable[Result]) -> Diagnosis:
    results = sorted(results, key=lambda r: (r.layer, r.check_id))
    by_id = {r.check_id: r for r in results}
    nodes = problem_nodes(results)
    problems: dict[str, list[str]] = {}  # root -> its consequences
    skips: dict[str, list[str]] = {}
    consequence_of: dict[str, str] = {}
    for code in nodes:
        root = _root(code, nodes)
        problems.setdefault(root, [])
        if root != code:
            problems[root].append(code)
            consequence_of[code] = root
    for r in results:
        if r.status is Status.SKIP and r.caused_by:
            root = _skip_root(r.check_id, by_id, nodes, set())
            if root is not None:
                problems.setdefault(root, [])
                skips.setdefault(root, []).append(r.check_id)
                consequence_of[r.check_id] = root

    def worst(root: str) -> int:
        return max(nodes[c].finding.severity.rank for c in (root, *problems[root]))

    ordered = sorted(problems, key=lambda root: (-worst(root), *nodes[root].key))
    independent = [root for root in ordered if worst(root) < Severity.FAIL.rank and not problems[root]]
    roots = tuple(Cause(root, nodes[root].finding.check_id, tuple(problems[root]), tuple(skips.get(root, ())))
                  for root in ordered if root not in independent)
    return Diagnosis(root_causes=roots, independent=tuple(independent), consequence_of=consequence_of)


def findings_by_code(results: Iterable[Result]) -> dict[str, tuple[Result, Finding]]:
    """Each finding code of a run with its result, for renderers that show a cause's words."""
    out: dict[str, tuple[Result, Finding]] = {}
    for r in results:
        for f in r.findings:
            out.setdefault(f.code, (r, f))
    return out
