import secrets

import pytest

from livekit_doctor.checks.plumbing.config.settings import livekit_settings
from livekit_doctor.context import Context


def test_flags_win_over_environment_and_sources_are_named():
    env = {"LIVEKIT_URL": "ws://env:7880", "LIVEKIT_API_KEY": "envkey", "LIVEKIT_API_SECRET": "envsecret"}
    ctx = Context(options={"url": "ws://flag:7880"}, env=env)
    s = livekit_settings(ctx)
    assert (s.url, s.api_key, s.api_secret) == ("ws://flag:7880", "envkey", "envsecret")
    assert s.sources == {"url": "--url", "api_key": "env LIVEKIT_API_KEY", "api_secret": "env LIVEKIT_API_SECRET"}
    assert s.complete


def test_nothing_configured():
    s = livekit_settings(Context(options={}, env={}))
    assert (s.url, s.api_key, s.api_secret, s.sources, s.complete) == (None, None, None, {}, False)


def test_secret_is_registered_for_redaction():
    secret = secrets.token_urlsafe(36)
    ctx = Context(options={}, env={"LIVEKIT_API_SECRET": secret})
    livekit_settings(ctx)
    assert secret not in ctx.redactor.redact(f"x {secret} y")


def write_lk_config(home, *, url="wss://lk.example.com", key="APIlkkey", secret="lk-secret-" + "x" * 30):
    (home / ".livekit").mkdir(parents=True)
    (home / ".livekit" / "cli-config.yaml").write_text(
        "default_project: prod\nprojects:\n"
        f"  - name: other\n    url: wss://other\n    api_key: APIother\n    api_secret: other\n"
        f"  - name: prod\n    url: {url}\n    api_key: {key}\n    api_secret: {secret}\n")


def test_dotenv_fills_what_env_lacks_and_env_wins_with_a_conflict(tmp_path):
    (tmp_path / ".env").write_text("LIVEKIT_URL=ws://dotenv:7880\nLIVEKIT_API_KEY=APIdotenv\nLIVEKIT_API_SECRET=dotenv-secret\n")
    ctx = Context(project_dir=tmp_path, options={}, env={"LIVEKIT_API_KEY": "APIenv", "HOME": str(tmp_path)})
    s = livekit_settings(ctx)
    assert (s.url, s.api_key, s.api_secret) == ("ws://dotenv:7880", "APIenv", "dotenv-secret")
    assert s.sources == {"url": ".env", "api_key": "env LIVEKIT_API_KEY", "api_secret": ".env"}
    assert s.conflicts == [("api_key", "env LIVEKIT_API_KEY", ".env")]
    assert s.env_file == tmp_path / ".env"


def test_env_file_option_replaces_project_dotenv(tmp_path):
    (tmp_path / ".env").write_text("LIVEKIT_URL=ws://project\n")
    other = tmp_path / "prod.env"
    other.write_text("LIVEKIT_URL=wss://prod\n")
    s = livekit_settings(Context(project_dir=tmp_path, options={"env_file": str(other)}, env={"HOME": str(tmp_path)}))
    assert (s.url, s.sources["url"]) == ("wss://prod", f"--env-file {other}")


def test_lk_cli_default_project_is_the_last_file_source(tmp_path):
    write_lk_config(tmp_path)
    s = livekit_settings(Context(project_dir=tmp_path, options={}, env={"HOME": str(tmp_path),
                                                                       "LIVEKIT_URL": "ws://env"}))
    assert (s.url, s.api_key) == ("ws://env", "APIlkkey")
    assert s.sources["api_key"] == "lk CLI project 'prod'"
    assert s.conflicts == [("url", "env LIVEKIT_URL", "lk CLI project 'prod'")]


def test_broken_lk_config_is_a_problem_not_a_crash(tmp_path):
    (tmp_path / ".livekit").mkdir()
    (tmp_path / ".livekit" / "cli-config.yaml").write_text("projects: [unclosed\n")
    s = livekit_settings(Context(project_dir=tmp_path, options={}, env={"HOME": str(tmp_path)}))
    assert s.url is None and len(s.problems) == 1 and "could not be read: " in s.problems[0]


def test_dev_defaults_only_when_a_local_server_listens(tmp_path):
    import socket

    env = {"HOME": str(tmp_path)}
    with socket.socket() as listener:
        try:
            listener.bind(("127.0.0.1", 7880))
        except OSError:
            pytest.skip("port 7880 is taken on this machine")
        listener.listen()
        s = livekit_settings(Context(project_dir=tmp_path, options={}, env=env))
        assert (s.url, s.api_key, s.api_secret) == ("ws://localhost:7880", "devkey", "secret")
        assert set(s.sources.values()) == {"dev defaults (a server listens on localhost:7880)"}
        partial = livekit_settings(Context(project_dir=tmp_path, options={}, env=env | {"LIVEKIT_URL": "wss://x"}))
        assert (partial.api_key, partial.api_secret) == (None, None)  # never mixed with a real setup
    s = livekit_settings(Context(project_dir=tmp_path, options={}, env=env))
    assert s.url is None


def test_overridden_secrets_are_redacted_too(tmp_path):
    losing = secrets.token_urlsafe(36)
    (tmp_path / ".env").write_text(f"LIVEKIT_API_SECRET={losing}\n")
    ctx = Context(project_dir=tmp_path, options={}, env={"LIVEKIT_API_SECRET": "winner-" + "y" * 30, "HOME": str(tmp_path)})
    livekit_settings(ctx)
    assert losing not in ctx.redactor.redact(losing)
