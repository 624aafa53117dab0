"""The whole project: the scan's findings planned file by file, the `.env` cleaned, and (`write`) the
results written in place, each file atomically with its mode kept (the `.env` backed up first)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

from livekit_doctor.checks.codescan.files import decode, python_files, read
from livekit_doctor.checks.codescan.scan import ScanReport, relevant
from livekit_doctor.checks.fixes.dotenv import plan_env
from livekit_doctor.checks.fixes.model import FileFix, FixReport
from livekit_doctor.checks.fixes.planner import plan_file


def plan_fixes(report: ScanReport, wanted: Callable[[str], bool], exclude: tuple[str, ...] = (),
               env_file: Path | None = None) -> tuple[FixReport, list[str]]:
    """What `fix` would change, and the secret values it handles (for the redactor)."""
    root = report.root
    texts = _relevant_texts(root, exclude)
    fixes = FixReport(root, report.knowledge.describe())
    by_file: dict[str, list] = {}
    for finding in report.findings:
        by_file.setdefault(finding.path, []).append(finding)
    for rel in sorted(set(by_file) | _token_candidates(texts)):
        found = by_file.get(rel, [])
        data = read(root / rel)
        if isinstance(data, str):
            continue
        plan = plan_file(rel, data, found, report.knowledge, {r: t for r, t in texts.items() if r != rel}, wanted)
        fixes.guidance += plan.guidance
        fixes.remaining += [f for f in found if wanted(f.rule) and f not in plan.settled]
        if plan.after != plan.before:
            fixes.files.append(FileFix(rel, plan.before, plan.after, plan.changes, data=plan.data))
    secrets: list[str] = []
    env = env_file or root / ".env"
    if env.is_file():
        try:
            text = env.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError):
            return fixes, secrets
        rel = os.path.relpath(env, root) if env.is_relative_to(root) else str(env)
        plan = plan_env(Path(rel).as_posix(), text, wanted)
        secrets = plan.secrets
        fixes.guidance += plan.guidance
        if plan.after != text:
            fixes.files.append(FileFix(Path(rel).as_posix(), text, plan.after, plan.changes, data=plan.after.encode(),
                                       backup=_backup_name(env).name, absolute=env))
    return fixes, secrets


def _relevant_texts(root: Path, exclude: tuple[str, ...]) -> dict[str, str]:
    """The files the scan analyses (those mentioning LiveKit and their importers), decoded."""
    paths, _ = python_files(root, exclude)
    contents = {}
    for path in paths:
        data = read(path)
        if not isinstance(data, str):
            contents[path.relative_to(root).as_posix()] = data
    texts = {}
    for rel in relevant(contents):
        text = decode(contents[rel])
        if isinstance(text, str):
            texts[rel] = text
    return texts


def _token_candidates(texts: dict[str, str]) -> set[str]:
    """Files that may hand out an AccessToken object (no scan rule finds that; the planner looks)."""
    return {rel for rel, text in texts.items() if "AccessToken" in text and "with_" in text}


def _backup_name(path: Path) -> Path:
    candidate, n = path.with_name(path.name + ".bak"), 1
    while candidate.exists():
        candidate, n = path.with_name(f"{path.name}.bak.{n}"), n + 1
    return candidate


def write(fixes: FixReport) -> None:
    """Every changed file replaced atomically, its mode kept; a `.env` copied to its backup first."""
    for fix in fixes.files:
        path = fix.absolute or fixes.root / fix.path
        if fix.backup is not None:
            shutil.copy2(path, path.with_name(fix.backup))
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(fix.data)
            shutil.copymode(path, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

