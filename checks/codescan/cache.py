"""Per-file results kept between runs: a file whose text, SDK knowledge, project facts and scan code
are unchanged is not parsed again.

One JSON file per scanned directory under <cache>/scan-results (ctx.cache_dir; ~/.cache/livekit-doctor),
holding each file's findings (or skip reason) under a key that hashes everything the verdict depends
on: the file's text, the installed SDK's knowledge, the project-wide facts, and the source of the scan
itself (so a changed rule invalidates it). `--no-cache` bypasses it; a broken cache file is ignored;
files of directories not scanned for a month (or beyond the newest 200) are pruned when one is saved.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from functools import lru_cache
from pathlib import Path

from livekit_doctor.checks.codescan.facts import Finding, Project
from livekit_doctor.checks.codescan.knowledge import Knowledge
from livekit_doctor.plugin import prune, write_atomic

Entry = tuple[list[Finding], str | None]  # the file's findings, or why it was skipped


@lru_cache(maxsize=1)
def scan_code_hash() -> str:
    """The scan's own source: a changed rule or pass gives new keys."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def context_key(knowledge: Knowledge, project: Project) -> str:
    """What every file's verdict depends on besides its text (sets sorted: their order varies by process)."""
    data = [dataclasses.asdict(knowledge), dataclasses.asdict(project), scan_code_hash()]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=sorted).encode()).hexdigest()


class ResultCache:
    def __init__(self, root: Path, knowledge: Knowledge, project: Project, directory: Path) -> None:
        name = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]
        self.path = directory / f"{name}.json"
        self.context = context_key(knowledge, project)
        self.old: dict[str, Entry] = {}
        self.new: dict[str, Entry] = {}
        try:
            stored = json.loads(self.path.read_text(encoding="utf-8"))
            self.old = {key: ([Finding(*fields) for fields in found], reason) for key, (found, reason) in stored.items()}
        except (OSError, ValueError, TypeError, AttributeError):  # missing, damaged or from another layout
            self.old = {}

    def key(self, rel: str, text: str) -> str:
        return hashlib.sha256(f"{self.context}\0{rel}\0{text}".encode()).hexdigest()

    def get(self, key: str) -> Entry | None:
        entry = self.old.get(key)
        if entry is not None:
            self.new[key] = entry
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.new[key] = entry

    def save(self) -> None:
        """Keep this run's entries only (the files as they are now), written atomically."""
        entries = {key: ([dataclasses.astuple(f) for f in found], reason) for key, (found, reason) in self.new.items()}
        write_atomic(self.path, json.dumps(entries).encode())
        prune(self.path.parent)
