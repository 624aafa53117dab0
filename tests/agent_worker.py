"""Runs one of the test agents (tests/fixtures/agents/NAME/agent.py) as a real livekit-agents worker.

The worker is started with `start` (production mode, as deployed) in its own process group,
with its own free health port (two workers on one host cannot share 8081), and is ready once it
logs "registered worker". It is stopped by its process group (SIGKILL: a worker asked to stop
drains its jobs for up to an hour).
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from livekit_server import LiveKitServer, free_port

AGENTS = Path(__file__).resolve().parent / "fixtures" / "agents"


class AgentWorker:
    def __init__(self, name: str, python: Path, server: LiveKitServer) -> None:
        self.name, self.python, self.server = name, python, server
        self.port = free_port()
        self._log = tempfile.NamedTemporaryFile(prefix=f"agent-{name}-", suffix=".log", delete=False)
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> "AgentWorker":
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
        env.update(self.server.env(), AGENT_HEALTH_PORT=str(self.port))
        self.proc = subprocess.Popen([str(self.python), "agent.py", "start"], cwd=AGENTS / self.name, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "registered worker" in self.log():
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"agent {self.name} did not register within {timeout:.0f} s:\n{self.log()[-3000:]}")

    def log(self) -> str:
        return Path(self._log.name).read_text(errors="replace")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)

    def __enter__(self) -> "AgentWorker":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        Path(self._log.name).unlink(missing_ok=True)
