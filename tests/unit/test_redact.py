import secrets

from livekit_doctor.redact import Redactor, shorten


def test_registered_secret_is_removed_everywhere():
    secret = secrets.token_urlsafe(36)
    red = Redactor([secret])
    out = red.redact(f"a {secret} b {secret}\n")
    assert secret not in out
    assert out == "a [secret redacted] b [secret redacted]\n"


def test_secret_with_trailing_newline_is_redacted_in_both_forms():
    secret = secrets.token_urlsafe(36)
    red = Redactor([secret + "\n"])
    assert secret not in red.redact(f"value={secret}")


def test_jwt_is_removed_or_keeps_only_header_and_claims():
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrZXkifQ.c2lnbmF0dXJlLXNpZ25hdHVyZQ"
    assert Redactor().redact(f"token {jwt}") == "token [token redacted]"
    kept = Redactor(keep_tokens=True).redact(jwt)
    assert kept == "eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrZXkifQ.[signature redacted]"


def test_password_in_url_is_masked():
    assert Redactor().redact("wss://user:hunter22@host:443/x") == "wss://user:***@host:443/x"


def test_shorten_shows_first_three_and_last_two():
    assert shorten("APIabcdefXY") == "API…XY"
    assert shorten("short") == "*****"
