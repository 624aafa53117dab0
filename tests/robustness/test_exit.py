"""The process ends, promptly and cleanly: named pipes and devices are never read, --timeout ends the
process (not only the report), a --python wrapper cannot hold the probe open, Ctrl-C prints no
traceback and a second Ctrl-C keeps the verdict and the snapshot, a closed pipe is no crash.

Each runs the doctor as a subprocess with a deadline: a hang fails the test instead of hanging it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from conftest import clean_env

DOCTOR = [sys.executable, "-m", "livekit_doctor"]


def start(args: list[str], cwd: Path, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen([*DOCTOR, *args], cwd=cwd, env=clean_env(HOME=str(cwd), **env), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[str], deadline: float) -> tuple[str, str, float]:
    started = time.monotonic()
    try:
        out, err = proc.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"still running after {deadline} s:\n{out[-2000:]}\n{err[-2000:]}") from None
    assert "Traceback" not in err, err
    return out, err, time.monotonic() - started


def test_a_named_pipe_as_env_file_is_a_cause_not_a_hang(tmp_path):
    os.mkfifo(tmp_path / "pipe.env")
    proc = start(["--env-file", str(tmp_path / "pipe.env"), "--select", "LK201", "--no-snapshot"], tmp_path)
    out, _, _ = finish(proc, 30)
    assert proc.returncode == 1
    assert f"are not set; {tmp_path / 'pipe.env'} is a named pipe, not a settings file: not read" in out
    assert "LK201.source-unreadable" in out and "explains: LK201.missing (fail)" in out


def test_named_pipes_and_devices_in_the_project_are_skipped(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    (tmp_path / "zero.py").symlink_to("/dev/zero")
    (tmp_path / "app.py").write_text("from livekit import api\n")
    proc = start(["scan", "--no-cache", str(tmp_path)], tmp_path)
    out, _, _ = finish(proc, 60)
    assert proc.returncode == 0
    assert "skipped pipe.py: not a regular file (a named pipe or a device): not read" in out
    assert "skipped zero.py: not a regular file (a named pipe or a device): not read" in out, out


def test_timeout_ends_the_process_while_the_code_scan_runs(tmp_path):
    project = tmp_path / "big"
    for i in range(60):
        package = project / f"pkg{i}"
        package.mkdir(parents=True)
        for j in range(100):  # 6,000 files that all mention livekit: every one is parsed and analysed
            (package / f"m{j}.py").write_text("from livekit import api\n\n" + "".join(
                f"async def f{k}(lk: api.LiveKitAPI):\n    return await lk.room.list_rooms(api.ListRoomsRequest())\n"
                for k in range(30)))
    proc = start(["--select", "LK3", "--project", str(project), "--timeout", "2", "--no-snapshot",
                  "--no-cache", "--format", "json"], tmp_path)
    out, _, took = finish(proc, 60)
    assert proc.returncode == 1 and '"timed_out": true' in out
    assert took < 2 + 10  # the verdict at 2 s, then the cleanup grace at most: the scan does not hold the exit


def test_a_python_wrapper_whose_child_keeps_stdout_open(tmp_path):
    wrapper = tmp_path / "python"
    wrapper.write_text(f"#!/bin/sh\n( exec sleep 4242 ) &\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    proc = start(["--python", str(wrapper), "--select", "LK101", "--no-snapshot"], tmp_path)
    out, _, took = finish(proc, 60)
    assert proc.returncode == 0, out
    assert took < 30  # the probe's own timeout is 30 s: the answer came, the lingering child was not waited for
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "4242"]]


def _slow_probe(tmp_path: Path) -> Path:
    wrapper = tmp_path / "slowpython"
    wrapper.write_text(f"#!/bin/sh\n[ \"$1\" = -c ] || sleep 20\nexec {sys.executable} \"$@\"\n")  # the probe is slow
    wrapper.chmod(0o755)
    return wrapper


def test_ctrl_c_during_the_sdk_probe(tmp_path):
    proc = start(["--python", str(_slow_probe(tmp_path)), "--select", "LK1,LK201", "--snapshot", "snap.md"],
                 tmp_path)
    time.sleep(3)  # the --python check and the probe are under way
    proc.send_signal(signal.SIGINT)
    out, err, _ = finish(proc, 30)
    assert proc.returncode == 130
    assert "ProcessLookupError" not in err and "Event loop is closed" not in err
    assert "LK101" in out and "interrupted" in out
    assert (tmp_path / "snap.md").is_file()


def test_a_second_ctrl_c_keeps_the_verdict_and_the_snapshot(tmp_path):
    proc = start(["--python", str(_slow_probe(tmp_path)), "--select", "LK1,LK201", "--snapshot", "snap.md"],
                 tmp_path)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err, _ = finish(proc, 30)
    assert proc.returncode == 130
    assert " passed" in out.strip().splitlines()[-1]  # the verdict line
    assert (tmp_path / "snap.md").is_file() and "LK201" in (tmp_path / "snap.md").read_text()


def test_a_closed_pipe_is_no_crash(tmp_path):
    doctor = subprocess.Popen([*DOCTOR, "list"], cwd=tmp_path, env=clean_env(HOME=str(tmp_path)),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    doctor.stdout.close()  # the reader went away (`| head -1`)
    _, err = doctor.communicate(timeout=30)
    assert b"Traceback" not in err and doctor.returncode in (0, 1, 120, -signal.SIGPIPE)
