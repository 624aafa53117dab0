"""Start the pinned LiveKit server on loopback and run the doctor against it (see scripts/demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from livekit_server import LiveKitServer  # noqa: E402


def main(argv: list[str]) -> int:
    with LiveKitServer() as server:
        print(f"LiveKit server v1.13.5 running at {server.url} (pid {server.proc.pid}, generated keys)\n", flush=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")} | server.env()
        args = ["--project", str(ROOT / "examples" / "voice_backend"), *argv]
        return subprocess.call([sys.executable, "-m", "diagnose", *args], env=env, cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
