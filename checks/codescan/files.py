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
from typing import Callable, Iterable, Iterator, TypeVar

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


T = TypeVar("T")


def no_pause() -> None:
    """The default pause between units of work: none."""


def paced(items: Iterable[T], pause: Callable[[], None]) -> Iterator[T]:
    """The items one by one, `pause()` before each: how a long loop lets timed work elsewhere go first."""
    for item in items:
        pause()
        yield item


def python_files(root: Path, exclude: tuple[str, ...] = (),
                 pause: Callable[[], None] = no_pause) -> tuple[list[Path], list[tuple[str, str]]]:
    """Python files under root (symlinked directories are not followed: no loops), and what was skipped."""
    found, skipped = [], []
    for directory, dirs, files in paced(os.walk(root, onerror=lambda e: skipped.append((str(e.filename), e.strerror))),
                                        pause):
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
    """The file's bytes, or why it cannot be read. Opened without blocking and read only if it is a regular
    file, at most MAX_BYTES: a named pipe `x.py` would block for ever, a link to /dev/zero never end."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        return f"unreadable: {exc.strerror}"
    with os.fdopen(fd, "rb") as fh:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return "not a regular file (a named pipe or a device): not read"
            data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            return f"unreadable: {exc.strerror}"
    return f"larger than {MAX_BYTES // 1_000_000} MB" if len(data) > MAX_BYTES else data


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


def unparsable(text: str, path: Path, rel: str) -> str | None:
    """Why parse_text would skip the file, or None, at about half its cost where no tree is needed: the
    symbol-table pass runs the same parser without building Python objects. Whatever it refuses (it also
    refuses a few things ast.parse accepts, like `nonlocal` at module level) parse_text judges again."""
    import symtable

    try:
        symtable.symtable(text, str(path), "exec")
    except Exception:  # SyntaxError, ValueError (null bytes), RecursionError, MemoryError
        parsed = parse_text(text, path, rel)
        return parsed if isinstance(parsed, str) else None
    return None


def parse(path: Path, root: Path) -> SourceFile | str:
    """The parsed file, or why it was skipped."""
    data = read(path)
    if isinstance(data, str):
        return data
    text = decode(data)
    if isinstance(text, tuple):
        return text[0]
    return parse_text(text, path, path.relative_to(root).as_posix())
