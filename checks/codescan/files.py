"""Which files the scan reads, and each one parsed exactly once (or skipped with the reason)."""

from __future__ import annotations

import ast
import fnmatch
import os
from dataclasses import dataclass
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "env", ".env", ".tox", ".nox",
             "site-packages", "dist-packages", "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache",
             ".eggs"}
MAX_BYTES = 5_000_000


@dataclass
class SourceFile:
    path: Path
    rel: str
    text: str
    tree: ast.Module

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def excluded(rel: str, patterns: tuple[str, ...]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(rel, p) or fnmatch.fnmatch(name, p) or rel.startswith(p.rstrip("/") + "/")
               for p in patterns)


def python_files(root: Path, exclude: tuple[str, ...] = ()) -> tuple[list[Path], list[tuple[str, str]]]:
    """Python files under root (symlinked directories are not followed: no loops), and what was skipped."""
    found, skipped = [], []
    for directory, dirs, files in os.walk(root, onerror=lambda e: skipped.append((str(e.filename), e.strerror))):
        base = Path(directory)
        rel_dir = base.relative_to(root).as_posix()
        keep = []
        for d in sorted(dirs):
            rel = d if rel_dir == "." else f"{rel_dir}/{d}"
            if d in SKIP_DIRS or d.endswith(".egg-info") or excluded(rel, exclude) or \
                    (base / d / "pyvenv.cfg").exists():
                continue
            keep.append(d)
        dirs[:] = keep
        for f in sorted(files):
            rel = f if rel_dir == "." else f"{rel_dir}/{f}"
            if f.endswith(".py") and not excluded(rel, exclude):
                found.append(base / f)
    return found, skipped


def parse(path: Path, root: Path) -> SourceFile | str:
    """The parsed file, or why it was skipped."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return f"larger than {MAX_BYTES // 1_000_000} MB"
        data = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not UTF-8 (byte {exc.start})"
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return f"cannot be parsed: {exc}"
    return SourceFile(path, path.relative_to(root).as_posix(), text, tree)
