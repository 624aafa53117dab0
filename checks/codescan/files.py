"""Which files the scan reads, and each one parsed exactly once (or skipped with the reason)."""

from __future__ import annotations

import ast
import codecs
import fnmatch
import io
import os
import re
import tokenize
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", "env", ".env", ".tox", ".nox",
             "site-packages", "dist-packages", "build", "dist", ".mypy_cache", ".pytest_cache", ".ruff_cache",
             ".eggs"}
MAX_BYTES = 5_000_000
# What ends a line for the tokenizer (and so for ast line numbers): not form feed, \x85 or \u2028,
# which str.splitlines() also splits on.
LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class SourceFile:
    path: Path
    rel: str
    text: str
    tree: ast.Module

    @cached_property
    def lines(self) -> list[str]:
        """The source lines as ast numbers them (lines[n - 1] is line n)."""
        lines = LINE_END.split(self.text)
        return lines[:-1] if lines and lines[-1] == "" else lines


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


def read(path: Path) -> bytes | str:
    """The file's bytes, or why it cannot be read."""
    try:
        if path.stat().st_size > MAX_BYTES:
            return f"larger than {MAX_BYTES // 1_000_000} MB"
        return path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror}"


def decode(data: bytes) -> str | tuple[str]:
    """The text the way Python reads it (a UTF-8 BOM, a PEP 263 coding line), or (why not,)."""
    encoding = "utf-8"
    if not data.startswith(codecs.BOM_UTF8) and b"coding" in b"\n".join(data.split(b"\n", 2)[:2]):  # PEP 263
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        except SyntaxError as exc:
            return (f"bad encoding declaration: {exc.msg}",)
    try:
        return data.decode("utf-8-sig" if encoding in ("utf-8", "utf-8-sig") else encoding)
    except UnicodeDecodeError as exc:
        name = "UTF-8" if encoding.startswith("utf-8") else encoding
        return (f"not {name} (byte {exc.start})",)


def parse_text(text: str, path: Path, rel: str) -> SourceFile | str:
    """The parsed file, or why it was skipped."""
    try:
        tree = ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}: {exc.msg}"
    except (ValueError, RecursionError, MemoryError) as exc:  # null bytes; nesting too deep for the parser
        return f"cannot be parsed: {exc or type(exc).__name__}"
    return SourceFile(path, rel, text, tree)


def parse(path: Path, root: Path) -> SourceFile | str:
    """The parsed file, or why it was skipped."""
    data = read(path)
    if isinstance(data, str):
        return data
    text = decode(data)
    if isinstance(text, tuple):
        return text[0]
    return parse_text(text, path, path.relative_to(root).as_posix())
