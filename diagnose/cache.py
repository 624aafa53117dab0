"""What the product keeps between runs: one directory, entries that stay valid while the files they
were computed from are unchanged, and the pruning and clearing of both.

The directory is ${<product>_CACHE} (LIVEKIT_DOCTOR_CACHE) when set, else ~/.cache/<product name>.
An entry records the *stamps* of what it depends on: size and modification time of files, and for a
directory on an interpreter's sys.path its own stamp plus each installed distribution's metadata
(installing, upgrading or removing a package changes them). A lookup re-stamps and compares.
Only the standard library, and only `os` at import: the command line's fast path imports this.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Iterable, Mapping

from livekit_doctor.product import Product

Stamp = list[Any]
PART_SUFFIXES = (".json", ".marshal")  # what entries look like; `clear` removes nothing else
MAX_AGE_DAYS = 30
MAX_ENTRIES = 200  # per part


def cache_root(product: Product, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    override = env.get(product.cache_env) if product.cache_env else None
    return Path(override).expanduser() if override else Path.home() / ".cache" / product.name


def stamp(path: str) -> Stamp | None:
    """[mtime_ns, size] of a file, [mtime_ns] of a directory, None when missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns] if os.path.isdir(path) else [st.st_mtime_ns, st.st_size]


_METADATA = ("METADATA", "RECORD", "PKG-INFO", "entry_points.txt")


def site_stamp(directory: str) -> Stamp | None:
    """A sys.path entry: its stamp, and the metadata of every distribution and .pth file it holds."""
    own = stamp(directory)
    if own is None or len(own) != 1:
        return own
    found = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                name = entry.name
                if name.endswith((".dist-info", ".egg-info")):
                    found.append([name, stamp(entry.path), *(stamp(os.path.join(entry.path, m)) for m in _METADATA)])
                elif name.endswith((".pth", ".egg-link")) or name.startswith("__editable__"):
                    found.append([name, stamp(entry.path)])
    except OSError:
        return own
    found.sort()
    return [*own, found]


def stamps(files: Iterable[str] = (), sites: Iterable[str] = ()) -> list[Any]:
    return [[(f, stamp(f)) for f in files], [(s, site_stamp(s)) for s in sites]]


def read_entry(path: Path, key: Any) -> Any | None:
    """The value stored under `key` at `path`, if the files it depends on are unchanged (else None)."""
    import json

    try:
        entry = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("key") != json.loads(json.dumps(key)):
        return None
    files, sites = entry.get("files") or [], entry.get("sites") or []
    if json.loads(json.dumps(stamps(files, sites))) != entry.get("stamps"):
        return None
    try:
        os.utime(path)  # in use: not pruned as old
    except OSError:
        pass
    return entry.get("value")


def write_entry(path: Path, key: Any, value: Any, files: Iterable[str] = (), sites: Iterable[str] = ()) -> None:
    """Store `value` atomically with the stamps of what it depends on; a read-only cache only costs speed."""
    import json

    files, sites = list(files), list(sites)
    entry = {"key": key, "files": files, "sites": sites, "stamps": stamps(files, sites), "value": value,
             "written": time.time()}
    write_atomic(path, json.dumps(entry).encode())
    prune(path.parent)


def write_atomic(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        temporary.write_bytes(data)
        temporary.replace(path)
    except OSError:
        pass


def prune(directory: Path, max_age_days: float = MAX_AGE_DAYS, keep: int = MAX_ENTRIES) -> None:
    """Drop entries unused for `max_age_days`, and the oldest beyond `keep` (e.g. scans of deleted temp dirs)."""
    try:
        entries = sorted(((p.stat().st_mtime, p) for p in directory.iterdir() if p.suffix in PART_SUFFIXES),
                         reverse=True)
    except OSError:
        return
    limit = time.time() - max_age_days * 86400
    for index, (mtime, path) in enumerate(entries):
        if index >= keep or mtime < limit:
            try:
                path.unlink()
            except OSError:
                pass


def cache_sizes(root: Path, parts: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Each part's (entries, bytes)."""
    out = {}
    for part in parts:
        files = [p for p in (root / part).glob("*") if p.suffix in PART_SUFFIXES] if (root / part).is_dir() else []
        out[part] = (len(files), sum(p.stat().st_size for p in files))
    return out


def clear_cache(root: Path, parts: Iterable[str]) -> int:
    """Remove every entry of these parts of the cache; the number removed. Nothing else in `root` is touched."""
    removed = 0
    for part in parts:
        directory = root / part
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            if path.suffix in PART_SUFFIXES or path.name.endswith(".tmp"):
                try:
                    path.unlink()
                    removed += 1
                except OSError:
                    pass
        try:
            directory.rmdir()
        except OSError:
            pass
    return removed
