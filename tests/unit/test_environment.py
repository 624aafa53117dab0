from livekit_doctor.checks.environment import LOW_MEMORY_BYTES, assess_resources, is_livekit_server


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
