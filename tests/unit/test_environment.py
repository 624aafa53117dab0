from pathlib import Path

import pytest

from livekit_doctor.checks.environment import LOW_MEMORY_BYTES, assess_resources
from livekit_doctor.checks.plumbing.processes.local_servers import is_livekit_server


def test_resources_fine():
    summary, problems = assess_resources(4, 1.0, 8 * 2**30, 16 * 2**30)
    assert problems == []
    assert summary == "4 CPUs, load 1.00, 8.0 of 16.0 GiB memory available"


def test_low_memory_and_high_load_are_problems():
    _, problems = assess_resources(2, 9.0, LOW_MEMORY_BYTES - 1, 2**30)
    assert problems == [("low-memory", "only 512 MiB memory available"),
                        ("cpu-starved", "load 9.0 on 2 CPUs (over 4 per CPU)")]


def test_resources_result_has_one_finding_per_problem(monkeypatch):
    import psutil

    from livekit_doctor.checks.environment import resources
    from livekit_doctor.context import Context
    from livekit_doctor.result import Severity, Status

    monkeypatch.setattr(psutil, "cpu_count", lambda: 2)
    monkeypatch.setattr("os.getloadavg", lambda: (9.0, 0.0, 0.0))
    result = resources.func(Context(options={}, env={}))
    assert result.status is Status.WARN
    assert [(f.code, f.severity) for f in result.findings if f.code == "cpu-starved"] == [("cpu-starved", Severity.WARN)]
    assert "load 9.0 on 2 CPUs (over 4 per CPU)" in result.summary
    monkeypatch.setattr("os.getloadavg", lambda: (1.0, 0.0, 0.0))
    assert "cpu-starved" not in [f.code for f in resources.func(Context(options={}, env={})).findings]


def test_server_process_recognised_by_name_or_build_path():
    assert is_livekit_server("livekit-server", [])
    assert is_livekit_server("server", ["/root/.cache/livekit-doctor/livekit-server-v1.13.5/server", "--dev"])
    assert not is_livekit_server("server", ["/usr/bin/server"])
    assert not is_livekit_server("python", ["python", "-m", "http.server"])


def _lk004(monkeypatch, procs, verdicts, url="ws://127.0.0.1:7999", env=None, something_on_port=False):
    """LK004 judged on given processes and /rtc/validate verdicts (port -> accepted), no real server."""
    import asyncio

    from livekit_doctor.checks import environment
    from livekit_doctor.checks.plumbing.processes import local_servers
    from livekit_doctor.checks.plumbing.processes.local_servers import Welcome
    from livekit_doctor.context import Context

    async def servers_here(host):
        return [dict(p) for p in procs]

    async def accepts(host, port):
        return something_on_port

    async def heard(ctx, host, ports):
        said = {True: "HTTP 200, server said: success", False: "HTTP 401, server said: invalid API key: APIxyz",
                None: "/rtc/validate gave no verdict: no answer within 1 s"}
        return {p: Welcome(p, verdicts[p], said[verdicts[p]], "" if verdicts[p] else "the server does not know this "
                                                                                     "API key") for p in ports}

    monkeypatch.setattr(local_servers, "local_servers", servers_here)
    monkeypatch.setattr(local_servers, "accepts_tcp", accepts)
    monkeypatch.setattr(local_servers, "welcomes", heard)
    env = env if env is not None else {"LIVEKIT_URL": url, "LIVEKIT_API_KEY": "APIabc", "LIVEKIT_API_SECRET": "s" * 40}
    return asyncio.run(environment.servers.func(Context(options={}, env=env)))


def proc(pid, ports, http, status="sleeping"):
    return {"pid": pid, "status": status, "tcp_listen_ports": ports, "listen": [], "signalling_port": http}


def test_lk004_offers_only_the_server_that_accepts_the_credentials(monkeypatch):
    result = _lk004(monkeypatch, [proc(1, [7001, 7002], 7001), proc(2, [7101, 7102], 7101)], {7001: False, 7101: True})
    assert [(f.code, f.severity.value) for f in result.findings] == [
        ("no-server-on-port", "warn"), ("other-server-refuses", "note")]
    main, lead = result.findings
    assert main.fix.startswith("The LiveKit server on port 7101 (pid 2) accepts these credentials (checked with "
                               "/rtc/validate: HTTP 200, server said: success): set LIVEKIT_URL=ws://127.0.0.1:7101")
    assert "7001" not in main.fix
    assert lead.message == ("a LiveKit server on port 7001 (pid 1) refuses these credentials (the server does not "
                            "know this API key): not this setup's server")
    assert lead.evidence == ("HTTP 401, server said: invalid API key: APIxyz",)
    assert result.summary == "2 running, none listening on port 7999: pid 1 listening on 7001, 7002; pid 2 listening on 7101, 7102"


def test_lk004_suggests_no_url_when_every_server_refuses(monkeypatch):
    result = _lk004(monkeypatch, [proc(1, [7001], 7001)], {7001: False})
    main = result.findings[0]
    assert main.code == "no-server-on-port" and "LIVEKIT_URL=" not in main.fix
    assert main.fix.startswith("Start this setup's server with port 7999")
    assert "none of the servers running here accepts them" in main.fix
    assert [f.code for f in result.findings[1:]] == ["other-server-refuses"]


def test_lk004_without_credentials_lists_leads_with_what_is_unknown(monkeypatch):
    from livekit_doctor.checks import environment

    result = _lk004(monkeypatch, [proc(1, [7001], 7001), proc(3, [7201], None, status="stopped")], {7001: None})
    assert [f.code for f in result.findings] == ["no-server-on-port", "other-server-unchecked", "stopped-server"]
    assert "LIVEKIT_URL=ws" not in result.findings[0].fix
    assert result.findings[1].message.startswith("a LiveKit server listens on port 7001 (pid 1); whether it accepts "
                                                 "these credentials is unknown: ")
    assert result.findings[2].fix == "`kill -CONT 3` if it is this setup's server."
    assert result.details == "stopped (SIGSTOP) processes: 3"
    declared = {c.name for c in environment.servers.codes}
    assert {f.code for f in result.findings} <= declared


def test_lk004_url_at_a_servers_other_port(monkeypatch):
    result = _lk004(monkeypatch, [proc(1, [7001, 7999], 7001)], {7001: True})
    (found,) = result.findings
    assert found.code == "not-signalling-port"
    assert found.fix.startswith("Its signalling port 7001 accepts these credentials (checked with /rtc/validate: "
                                "HTTP 200, server said: success): set LIVEKIT_URL=ws://127.0.0.1:7001")
    refused = _lk004(monkeypatch, [proc(1, [7001, 7999], 7001)], {7001: False}).findings[0]
    assert refused.code == "not-signalling-port" and "alone will not work" in refused.fix


def test_lk004_passes_when_the_url_reaches_a_server_or_another_program(monkeypatch):
    assert _lk004(monkeypatch, [proc(1, [7999, 8000], 7999)], {}).findings == ()
    assert _lk004(monkeypatch, [proc(1, [7001], 7001)], {7001: True}, something_on_port=True).findings == ()
    assert _lk004(monkeypatch, [proc(1, [7001], 7001)], {7001: True}, url="wss://lk.example.com").findings == ()


def documented_codes(check_id: str) -> list[str]:
    """The codes in the table of the page's "## Finding codes" section, in order."""
    import re

    from livekit_doctor.check import markdown_section

    page = Path(__file__).resolve().parents[2] / "docs" / "checks" / f"{check_id}.md"
    return re.findall(r"^\| `(LK\d{3}\.[a-z-]+)` \|", markdown_section(page.read_text(encoding="utf-8"), "Finding codes"),
                      re.M)


@pytest.mark.parametrize("check_id", ["LK001", "LK002", "LK003", "LK004"])
def test_each_page_lists_the_declared_codes(check_id):
    from livekit_doctor.checks.environment import CHECKS

    chk = next(c for c in CHECKS if c.id == check_id)
    assert documented_codes(check_id) == [f"{check_id}.{c.name}" for c in chk.codes]
