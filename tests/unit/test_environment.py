from livekit_doctor.checks.environment import LOW_MEMORY_BYTES, assess_resources, is_livekit_server


def test_resources_fine():
    summary, problems = assess_resources(4, 1.0, 8 * 2**30, 16 * 2**30)
    assert problems == []
    assert summary == "4 CPUs, load 1.00, 8.0 of 16.0 GiB memory available"


def test_low_memory_and_high_load_are_problems():
    _, problems = assess_resources(2, 9.0, LOW_MEMORY_BYTES - 1, 2**30)
    assert problems == ["only 512 MiB memory available", "load 9.0 on 2 CPUs"]


def test_server_process_recognised_by_name_or_build_path():
    assert is_livekit_server("livekit-server", [])
    assert is_livekit_server("server", ["/root/.cache/livekit-doctor/livekit-server-v1.13.5/server", "--dev"])
    assert not is_livekit_server("server", ["/usr/bin/server"])
    assert not is_livekit_server("python", ["python", "-m", "http.server"])
