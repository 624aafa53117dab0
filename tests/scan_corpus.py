"""A real-world corpus for the code scan: released distributions that use the LiveKit server SDK.

Nobody here wrote them: livekit-agents (LiveKit's own code, with the SDKs it needs to resolve its
imports) and third-party packages on the registry that use livekit-api directly or through
livekit-agents. Pinned by version, wheels only, installed side by side with
`pip install --no-deps --target` and cached under
${LIVEKIT_DOCTOR_CACHE:-~/.cache/livekit-doctor}/scan-corpus/<hash of the pins>.
`python tests/scan_corpus.py` builds it ahead of a test run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

CACHE = Path(os.environ.get("LIVEKIT_DOCTOR_CACHE", Path.home() / ".cache" / "livekit-doctor")) / "scan-corpus"

PINS = (
    # LiveKit's own: the agents framework, three of its plugins, and what their imports resolve to
    "livekit-agents==1.8.9", "livekit-plugins-anam==1.8.9", "livekit-plugins-bey==1.8.9",
    "livekit-plugins-bithuman==1.8.10", "livekit-api==1.2.2", "livekit-protocol==1.1.29", "livekit==1.1.21",
    "livekit-blingfire==1.2.0", "livekit-local-inference==0.2.7",
    # third parties using livekit-api (directly or through livekit-agents)
    "callva-livekit==0.1.72", "damasqas-livekit==0.3.1", "egma==0.4.0", "lampgo-livekit-agent-sdk==0.3.0",
    "livekit-evals==0.3.2", "livekit-memorysync==1.1.1", "livekit-piopiy==0.1.2", "livekit-ai-note-taker==0.1.8",
    "livekit-tools==0.0.0.dev2", "livekit-utils==0.18.0", "meshagent-livekit==0.0.21",
    "moss-voice-agent-manager==1.0.0b14", "moss-voice-server==0.1.0", "persona-voice==1.2.1", "stimm==0.1.14",
    "voicelink==0.1.1", "openrtc==0.20.1",
)


class CorpusBuildError(RuntimeError):
    pass


def corpus_dir() -> Path:
    return CACHE / hashlib.sha256("\n".join(PINS).encode()).hexdigest()[:10]


def ensure_corpus() -> Path:
    """The corpus directory, downloading and unpacking the pinned wheels first if not cached yet."""
    target = corpus_dir()
    if (target / ".complete").is_file():
        return target
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    try:
        cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "-q", "--no-deps",
               "--only-binary=:all:", "--no-compile", "--target", str(building), *PINS]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise CorpusBuildError(f"{' '.join(cmd)} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
        shutil.rmtree(building / "bin", ignore_errors=True)  # console scripts: not the packages' code
        (building / ".complete").write_text("\n".join(PINS), encoding="utf-8")
        try:
            building.rename(target)
        except OSError:  # another process finished it first
            shutil.rmtree(building, ignore_errors=True)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return target


if __name__ == "__main__":
    print(ensure_corpus())
