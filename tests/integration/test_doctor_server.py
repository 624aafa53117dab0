"""The doctor against the real pinned LiveKit server."""

import json

from conftest import clean_env


def test_environment_check_sees_the_server_process_and_port(livekit_server, run_doctor):
    proc = run_doctor("--select", "LK0", "--format", "json", env=clean_env(**livekit_server.env()))
    doc = json.loads(proc.stdout)
    lk004 = next(r for r in doc["results"] if r["check_id"] == "LK004")
    assert lk004["status"] == "pass", lk004
    pids = {p["pid"]: p for p in lk004["facts"]["processes"]}
    assert livekit_server.proc.pid in pids
    assert livekit_server.port in pids[livekit_server.proc.pid]["tcp_listen_ports"]
    assert lk004["facts"]["expected_port"] == livekit_server.port


def test_environment_check_warns_when_no_server_listens_on_the_url_port(livekit_server, run_doctor):
    from livekit_server import free_port

    other = free_port()
    proc = run_doctor("--select", "LK004", "--format", "json", env=clean_env(LIVEKIT_URL=f"ws://127.0.0.1:{other}"))
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == "warn"
    assert f"none listening on port {other}" in result["summary"]
    assert proc.returncode == 0  # a warning is below the default --fail-on level


def test_paused_server_is_named_stopped(start_server, run_doctor):
    from livekit_server import free_port

    server = start_server()
    server.pause()
    try:
        env = clean_env(LIVEKIT_URL=f"ws://127.0.0.1:{free_port()}")
        proc = run_doctor("--select", "LK004", "--format", "json", "--fail-on", "warn", env=env)
    finally:
        server.resume()
    result = json.loads(proc.stdout)["results"][0]
    assert result["status"] == "warn"
    assert str(server.proc.pid) in result["details"]
    assert proc.returncode == 1  # --fail-on warn
