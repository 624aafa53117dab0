"""Scan a project: every Python file read once; those that can hold LiveKit code parsed and analysed once.

A cheap first pass over the bytes picks the files that mention `livekit` and those importing a
project module that does (a project's own wrapper of the SDK): no other file can misuse the SDK,
so the rest are counted but never parsed. Of the others, only those whose text names something a rule
reads are parsed and analysed (`reach`: the rest cannot give a finding). A large project is parsed by worker
processes when cores are idle (parsing is CPU-bound and holds the GIL), otherwise in this thread;
the `scan` command also reuses the cached results of unchanged files (`cache`).
"""

from __future__ import annotations

import gc
import multiprocessing
import re
from contextlib import contextmanager
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from livekit_doctor.checks.codescan.analysis import Finding, analyze
from livekit_doctor.checks.codescan.cache import ResultCache
from livekit_doctor.checks.codescan.facts import Project
from livekit_doctor.checks.codescan.files import (SourceFile, decode, no_pause, paced, parse_text, python_files, read,
                                                 unparsable)
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.checks.codescan.lifetimes import project_of
from livekit_doctor.checks.codescan.newer import analyse_in_app_python, newer
from livekit_doctor.checks.codescan.reach import Reach

MENTION = re.compile(rb"livekit|LIVEKIT|LiveKit")
PARALLEL_LINES = 40_000  # below this, starting worker processes costs more than it saves
WORKERS = 2
IMPORTS = re.compile(rb"^[ \t]*(?:from[ \t]+\.*([\w.]*)[ \t]+import[ \t]+\(?([\w, \t\\\n]+)|import[ \t]+([\w., \t]+))",
                     re.MULTILINE)


@dataclass
class ScanReport:
    root: Path
    knowledge: Knowledge
    findings: list[Finding] = field(default_factory=list)
    files: int = 0  # read
    lines: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    analysed: int = 0  # of the files that can hold LiveKit code: parsed and analysed, or ruled out by `reach`


def scan(root: Path, knowledge: Knowledge | Future[Knowledge], exclude: tuple[str, ...] = (),
         cache: Path | None = None, progress: Callable[[str], None] = lambda text: None,
         processes: bool = True, pause: Callable[[], None] = no_pause) -> ScanReport:
    """Read every file, analyse those that can use the SDK against what the installed SDK provides.

    `knowledge` may still be on its way (a Future completed when the SDK probe answers): reading and
    parsing, the bulk of the work, go on meanwhile and the files parsed so far wait for it. `cache`
    (a directory) reuses the results of unchanged files and keeps the new ones there. `progress` hears
    how far it got (a status line on a terminal). `processes=False` keeps all work in this thread: the
    doctor, which may end its process at a timeout, must leave no worker process behind holding its pipes.
    `pause` runs between units of work (a directory, a file): the doctor's scan waits there while a network
    check times a step.
    """
    if not isinstance(knowledge, Future):
        known: Future[Knowledge] = Future()
        known.set_result(knowledge)
        knowledge = known
    paths, skipped = python_files(root, exclude, pause)
    report = ScanReport(root, Knowledge(), skipped=skipped)
    contents: dict[str, bytes] = {}
    for number, path in enumerate(paced(paths, pause), 1):
        if number % 100 == 0:
            progress(f"code scan: read {number}/{len(paths)} files")
        rel = path.relative_to(root).as_posix()
        data = read(path)
        if isinstance(data, str):
            skipped.append((rel, data))
            continue
        report.files += 1
        report.lines += data.count(b"\n") + (not data.endswith(b"\n") and bool(data))
        contents[rel] = data
    texts: dict[str, str] = {}
    for rel in relevant(contents):
        text = decode(contents[rel])
        if isinstance(text, tuple):
            skipped.append((rel, text[0]))
        else:
            texts[rel] = text
    project = project_of(texts, pause)
    with collector_paused():
        if cache:
            _cached(root, texts, knowledge.result(), project, report, cache, progress, processes, pause)
        else:
            _analyze(root, texts, knowledge, project, report, progress, processes, pause)
    report.knowledge = knowledge.result()
    _newer_syntax(root, texts, report.knowledge, project, report)
    report.findings.sort(key=lambda f: (f.path, f.line, f.col, f.rule))
    skipped.sort()
    return report


def _cached(root: Path, texts: dict[str, str], knowledge: Knowledge, project: Project, report: ScanReport,
            directory: Path, progress: Callable[[str], None], processes: bool = True,
            pause: Callable[[], None] = no_pause) -> None:
    """Unchanged files from the cache, the others analysed and remembered."""
    cache = ResultCache(root, knowledge, project, directory)
    keys = {rel: cache.key(rel, text) for rel, text in texts.items()}
    todo = {}
    for rel, text in texts.items():
        entry = cache.get(keys[rel])
        if entry is None:
            todo[rel] = text
            continue
        report.findings += entry[0]
        if entry[1] is None:
            report.analysed += 1
        else:
            report.skipped.append((rel, entry[1]))
    fresh = ScanReport(root, knowledge)
    _analyze(root, todo, knowledge, project, fresh, progress, processes, pause)
    reasons = dict(fresh.skipped)
    for rel in todo:
        cache.put(keys[rel], ([f for f in fresh.findings if f.path == rel], reasons.get(rel)))
    report.findings += fresh.findings
    report.skipped += fresh.skipped
    report.analysed += fresh.analysed
    cache.save()


def _analyze(root: Path, texts: dict[str, str], knowledge: Future[Knowledge] | Knowledge, project: Project,
             report: ScanReport, progress: Callable[[str], None] = lambda text: None,
             processes: bool = True, pause: Callable[[], None] = no_pause) -> None:
    """Parse and analyse the files that could give a finding (`reach`; the others are judged by their text):
    in worker processes when they are many and cores are idle, else here. Until the SDK probe answers, the
    files are picked by what any SDK has; those that what the installed one lacks adds, once it has answered."""
    if isinstance(knowledge, Knowledge):
        known: Future[Knowledge] = Future()
        known.set_result(knowledge)
        knowledge = known
    early = Reach.of(knowledge.result() if knowledge.done() else Knowledge(), project)
    picked = {rel: text for rel, text in texts.items() if early.could_find(rel, text)}
    large = sum(text.count("\n") for text in picked.values()) >= PARALLEL_LINES
    if processes and large and idle_cpus() >= WORKERS - 0.5:
        picked |= _picked_later(texts, picked, early, knowledge.result(), project)
        rest = {rel: text for rel, text in texts.items() if rel not in picked}
        report.analysed += len(rest) - len(_unparsable(root, rest, report))
        _in_workers(root, picked, knowledge.result(), project, report, progress)
        return
    waiting: list[SourceFile] = []
    for number, (rel, text) in enumerate(paced(picked.items(), pause), 1):
        progress(f"code scan: analysing {number}/{len(picked)} files")
        parsed = parse_text(text, root / rel, rel)
        if isinstance(parsed, str):
            report.skipped.append((rel, parsed))
            continue
        waiting.append(parsed)
        if knowledge.done():
            _analyze_all(waiting, knowledge.result(), project, report, pause)
    rest = {rel: text for rel, text in texts.items() if rel not in picked}
    broken = _unparsable(root, rest, report, pause)
    later = _picked_later(texts, picked, early, knowledge.result(), project, pause)  # waits if parsing beat the probe
    for rel, text in paced(later.items(), pause):
        parsed = parse_text(text, root / rel, rel) if rel not in broken else None
        if isinstance(parsed, SourceFile):
            waiting.append(parsed)
        elif isinstance(parsed, str):
            report.skipped.append((rel, parsed))
    report.analysed += len(rest.keys() - broken - later.keys())
    _analyze_all(waiting, knowledge.result(), project, report, pause)


def _unparsable(root: Path, rest: dict[str, str], report: ScanReport,
                pause: Callable[[], None] = no_pause) -> set[str]:
    """Of the files ruled out by their text, those the parser refuses: reported skipped all the same."""
    broken = set()
    for rel, text in paced(rest.items(), pause):
        why = unparsable(text, root / rel, rel)
        if why is not None:
            report.skipped.append((rel, why))
            broken.add(rel)
    return broken


def _picked_later(texts: dict[str, str], picked: dict[str, str], early: Reach, knowledge: Knowledge,
                  project: Project, pause: Callable[[], None] = no_pause) -> dict[str, str]:
    """The files the installed SDK adds to those picked before it was known (names it lacks, its methods)."""
    if knowledge == early.knowledge:
        return {}
    later = Reach.of(knowledge, project).beyond(early)
    return {rel: text for rel, text in paced(texts.items(), pause) if rel not in picked and later.could_find(rel, text)}


def _newer_syntax(root: Path, texts: dict[str, str], knowledge: Knowledge, project: Project,
                  report: ScanReport) -> None:
    """Files the doctor's Python cannot parse, handed to the app's interpreter when that one is newer."""
    unparsed = {rel for rel, why in report.skipped if why.startswith("syntax error") and rel in texts}
    if not unparsed or not newer(knowledge):
        return
    answer = analyse_in_app_python(root, {rel: texts[rel] for rel in unparsed}, knowledge, project)
    if answer is None:
        return
    findings, still = answer
    report.findings += findings
    report.analysed += len(unparsed) - len(still)
    version = f"Python {knowledge.python_version}"
    report.skipped[:] = [entry for entry in report.skipped if entry[0] not in unparsed] + [
        (rel, f"{why} (also for the app's {version})") for rel, why in still]


@contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while syntax trees are built and walked: they are a great many
    young objects without cycles (freed by reference counting), and collecting among them took 2/3 of
    ast.parse's time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def relevant(contents: dict[str, bytes]) -> list[str]:
    """The files that mention livekit, and those importing a project module that does, in walk order."""
    direct = {rel for rel, data in contents.items() if MENTION.search(data)}
    stems = {_stem(rel) for rel in direct}
    if not stems:
        return sorted(direct)
    wrappers = {rel for rel, data in contents.items() if rel not in direct and not stems.isdisjoint(_imported(data))}
    return [rel for rel in contents if rel in direct or rel in wrappers]


def _stem(rel: str) -> str:
    parts = rel.removesuffix(".py").split("/")
    return parts[-2] if parts[-1] == "__init__" and len(parts) > 1 else parts[-1]


def _imported(data: bytes) -> set[str]:
    """Every dotted component a file's import statements name (over-inclusive on purpose: it is a filter)."""
    names: set[str] = set()
    for module, members, plain in IMPORTS.findall(data):
        for chunk in (module, members, plain):
            names.update(part.decode() for part in re.split(rb"[\s,.()\\]+|\bas\b", chunk) if part)
    return names


def _analyze_all(sources: list[SourceFile], knowledge: Knowledge, project: Project, report: ScanReport,
                 pause: Callable[[], None] = no_pause) -> None:
    for source in paced(sources, pause):
        try:
            report.findings += analyze(source, knowledge, project)
        except RecursionError:
            report.skipped.append((source.rel, "nested too deeply to analyse (RecursionError)"))
            continue
        report.analysed += 1
    sources.clear()


def idle_cpus() -> float:
    """CPUs not busy right now (worker processes only pay off on idle cores)."""
    import os

    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    try:
        return count - os.getloadavg()[0]
    except OSError:  # no load average (Windows)
        return 0.0


def _in_workers(root: Path, texts: dict[str, str], knowledge: Knowledge, project: Project, report: ScanReport,
                progress: Callable[[str], None]) -> None:
    """Parse and analyse in WORKERS processes, the files dealt out by size (largest first, to the lightest)."""
    batches: list[list[tuple[str, str]]] = [[] for _ in range(WORKERS * 2)]
    loads = [0] * len(batches)
    for rel, text in sorted(texts.items(), key=lambda item: -len(item[1])):
        lightest = loads.index(min(loads))
        batches[lightest].append((rel, text))
        loads[lightest] += len(text)
    # spawn, not fork: the doctor runs threads (the event loop, the SDK probe) that a fork would copy mid-step
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        for done, (findings, skipped, analysed) in enumerate(pool.map(
                _batch, [root] * len(batches), batches, [knowledge] * len(batches), [project] * len(batches)), 1):
            progress(f"code scan: analysed {done}/{len(batches)} shares of {len(texts)} files")
            report.findings += findings
            report.skipped += skipped
            report.analysed += analysed


def _batch(root: Path, batch: list[tuple[str, str]], knowledge: Knowledge,
           project: Project) -> tuple[list[Finding], list[tuple[str, str]], int]:
    """One worker's share: parsed and analysed, reported back as plain data."""
    report = ScanReport(root, knowledge)
    sources = []
    with collector_paused():
        _parse_all(root, batch, report, sources)
        _analyze_all(sources, knowledge, project, report)
    return report.findings, report.skipped, report.analysed


def _parse_all(root: Path, batch: list[tuple[str, str]], report: ScanReport, sources: list[SourceFile]) -> None:
    for rel, text in batch:
        parsed = parse_text(text, root / rel, rel)
        if isinstance(parsed, str):
            report.skipped.append((rel, parsed))
        else:
            sources.append(parsed)
