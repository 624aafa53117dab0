"""Start the pinned LiveKit server, the example voice backend and the test echo agent (a real
livekit-agents worker, its venv cached by tests/sdk_venvs.py) on loopback, then run the doctor
against them (see scripts/demo). Extra arguments go to the doctor."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from agent_worker import AgentWorker  # noqa: E402
from livekit_server import LiveKitServer, free_port  # noqa: E402
from sdk_venvs import ensure_venv  # noqa: E402

EXAMPLE = ROOT / "examples" / "voice_backend"


def wait_for_port(port: int, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the example backend exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the example backend did not start")


def main(argv: list[str]) -> int:
    with LiveKitServer() as server, AgentWorker("echo", ensure_venv("agents-newest"), server):
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")} | server.env()
        port = free_port()
        backend = subprocess.Popen([sys.executable, str(EXAMPLE / "app.py")], env=env | {"PORT": str(port)},
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for_port(port, backend)
            endpoint = f"http://127.0.0.1:{port}/api/voice/session"
            print(f"LiveKit server v1.13.5 at {server.url} (pid {server.proc.pid}, generated keys); "
                  f"example backend at {endpoint}; echo agent registered\n", flush=True)
            args = ["--project", str(EXAMPLE), "--app-endpoint", endpoint, "--agent", "echo", *argv]
            return subprocess.call([sys.executable, "-m", "livekit_doctor", *args], env=env, cwd=ROOT)
        finally:
            backend.terminate()
            backend.wait(10)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
