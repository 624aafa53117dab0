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
    assert result["findings"][0]["code"] == "LK004.no-server-on-port"
    assert "LIVEKIT_URL=ws" not in result["findings"][0]["fix"]  # no credentials: nothing was checked, nothing offered
    unchecked = [f for f in result["findings"] if f["code"] == "LK004.other-server-unchecked"
                 and f"port {livekit_server.port} " in f["message"]]
    assert unchecked and "no API key and secret are configured" in unchecked[0]["message"]
    assert proc.returncode == 0  # a warning is below the default --fail-on level


def test_a_free_port_suggests_the_server_that_accepts_the_credentials_not_the_one_that_refuses(start_server,
                                                                                                run_doctor):
    """Two servers here, one with other keys: only the one /rtc/validate shows accepting these credentials is
    offered as LIVEKIT_URL; the other is a lead, a note below the root cause, with its own words."""
    from livekit_server import free_port, generate_keys

    ours = start_server()
    other_key, other_secret = generate_keys()
    theirs = start_server(keys={other_key: other_secret})
    env = clean_env(**{**ours.env(), "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}"})
    proc = run_doctor("--select", "LK004", "--format", "json", env=env)
    doc = json.loads(proc.stdout)
    result = doc["results"][0]
    main = result["findings"][0]
    assert (result["status"], main["code"], main["severity"]) == ("warn", "LK004.no-server-on-port", "warn")
    assert f"set LIVEKIT_URL=ws://127.0.0.1:{ours.port}," in main["fix"]
    assert "accepts these credentials (checked with /rtc/validate: HTTP 200" in main["fix"]
    assert str(theirs.port) not in main["fix"]
    refusing = [f for f in result["findings"] if f["code"] == "LK004.other-server-refuses"
                and f"port {theirs.port} " in f["message"]]
    assert len(refusing) == 1 and refusing[0]["severity"] == "note"
    assert refusing[0]["message"].endswith("refuses these credentials (the server does not know this API key): "
                                           "not this setup's server")
    assert refusing[0]["evidence"] == [f"HTTP 401, server said: invalid API key: {ours.api_key}"]
    assert "LK004.other-server-refuses" not in {c["code"] for c in doc["diagnosis"]["root_causes"]}
    assert ours.api_secret not in proc.stdout

    ours.stop()  # now only the server that refuses is left: no URL is offered at all
    proc = run_doctor("--select", "LK004", "--format", "json", env=env)
    result = json.loads(proc.stdout)["results"][0]
    main = result["findings"][0]
    assert main["code"] == "LK004.no-server-on-port" and "set LIVEKIT_URL" not in main["fix"]
    assert main["fix"].startswith("Start this setup's server with port ")
    assert any(f["code"] == "LK004.other-server-refuses" and f"port {theirs.port} " in f["message"]
               for f in result["findings"])


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
    assert any(f["code"] == "LK004.stopped-server" and f"pid {server.proc.pid} " in f["message"]
               for f in result["findings"])
    assert proc.returncode == 1  # --fail-on warn
