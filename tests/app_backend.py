"""tests/fixtures/app_backend/server.py in its own process, in one of its modes (see that file)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from livekit_server import free_port

SERVER = Path(__file__).resolve().parent / "fixtures" / "app_backend" / "server.py"


class Backend:
    def __init__(self, mode: str, env: dict[str, str]) -> None:
        """`env` must hold LIVEKIT_URL/KEY/SECRET: the app mints with them and hands out that URL."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/voice/session"
        self.proc = subprocess.Popen([sys.executable, str(SERVER), mode, str(self.port)], env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout.readline().strip() == "ready"

    def __enter__(self) -> "Backend":
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(10)
