"""Files whose syntax is newer than the doctor's Python (PEP 695 generics, PEP 701 f-strings), analysed
by the app's own interpreter when it is newer: what the app runs must not be skipped for the
doctor's age.

The scan's own package (pure standard library) is put on that interpreter's path under its installed
name and given the texts, the SDK knowledge and the project facts as JSON on stdin; it answers with
the findings (or why the files cannot be parsed there either) as JSON.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from livekit_doctor.checks.codescan.facts import Finding, Project
from livekit_doctor.checks.codescan.knowledge import Knowledge

TIMEOUT = 120.0
RUNNER = """
import dataclasses, json, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from livekit_doctor.checks.codescan.analysis import analyze
from livekit_doctor.checks.codescan.facts import Project
from livekit_doctor.checks.codescan.files import parse_text
from livekit_doctor.checks.codescan.knowledge import Knowledge
job = json.load(sys.stdin)
known = job["knowledge"]
known["subpackages"] = None if known["subpackages"] is None else frozenset(known["subpackages"])
knowledge = Knowledge(**known)
project = Project(**{k: frozenset(v) if isinstance(v, list) else v for k, v in job["project"].items()})
out = {"findings": [], "skipped": []}
for rel, text in job["files"].items():
    parsed = parse_text(text, Path(job["root"]) / rel, rel)
    if isinstance(parsed, str):
        out["skipped"].append([rel, parsed])
        continue
    try:
        out["findings"] += [dataclasses.astuple(f) for f in analyze(parsed, knowledge, project)]
    except RecursionError:
        out["skipped"].append([rel, "nested too deeply to analyse (RecursionError)"])
json.dump(out, sys.stdout)
"""


def newer(knowledge: Knowledge) -> bool:
    """The app's interpreter is known and newer than the doctor's."""
    try:
        version = tuple(int(part) for part in (knowledge.python_version or "").split(".")[:2])
    except ValueError:
        return False
    return bool(knowledge.python) and len(version) == 2 and version > sys.version_info[:2]


def analyse_in_app_python(root: Path, texts: dict[str, str], knowledge: Knowledge,
                          project: Project) -> tuple[list[Finding], list[tuple[str, str]]] | None:
    """Findings and skipped files from the app's interpreter, or None when it could not be run."""
    job = {"root": str(root), "files": texts, "knowledge": dataclasses.asdict(knowledge),
           "project": dataclasses.asdict(project)}
    with tempfile.TemporaryDirectory(prefix="livekit-doctor-scan-") as tmp:
        package = Path(tmp) / "livekit_doctor"
        package.mkdir()
        (package / "__init__.py").write_text("", encoding="utf-8")
        checks = Path(__file__).resolve().parents[1]  # the installed livekit_doctor.checks package
        try:
            os.symlink(checks, package / "checks", target_is_directory=True)
        except OSError:  # no symlinks (Windows without the privilege)
            shutil.copytree(checks, package / "checks")
        try:
            proc = subprocess.run([knowledge.python, "-I", "-B", "-c", RUNNER, tmp],
                                  input=json.dumps(job, default=sorted), capture_output=True, text=True, timeout=TIMEOUT)
            data = json.loads(proc.stdout) if proc.returncode == 0 else None
        except (OSError, subprocess.TimeoutExpired, ValueError):
            data = None
    if data is None:
        return None
    return [Finding(*fields) for fields in data["findings"]], [(rel, why) for rel, why in data["skipped"]]
