import secrets

from checks.settings import livekit_settings
from diagnose.context import Context


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
