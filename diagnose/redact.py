"""Redaction applied to every rendered output: secrets never leave the process."""

from __future__ import annotations

import re
from typing import Any

# header.payload.signature, base64url; JWT headers always start with '{"' -> 'eyJ'.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}")
_URL_PASSWORD = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<user>[^:/@\s]*):(?P<pw>[^@/\s]+)@")


def shorten(value: str) -> str:
    """Show an identifier (an API key) without revealing it: first 3 and last 2 characters."""
    if len(value) <= 6:
        return "*" * len(value)
    return f"{value[:3]}…{value[-2:]}"


class Redactor:
    """Knows the run's secrets and scrubs them, JWTs and URL passwords from any text."""

    def __init__(self, secrets: list[str] | None = None, *, keep_tokens: bool = False) -> None:
        self._secrets: set[str] = set()
        self.keep_tokens = keep_tokens
        for secret in secrets or ():
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        for variant in {secret, secret.strip()}:
            if len(variant) >= 4:
                self._secrets.add(variant)

    def redact(self, text: str) -> str:
        if not text:
            return text
        text = _JWT.sub(self._jwt_replacement, text)
        text = _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)
        if self._secrets:  # one pass, longest first: a placeholder is never redacted again
            pattern = "|".join(re.escape(s) for s in sorted(self._secrets, key=len, reverse=True))
            text = re.sub(pattern, "[secret redacted]", text)
        return text

    def scrub(self, value: Any) -> Any:
        """`redact` applied to every string inside nested dicts, lists and tuples (keys too)."""
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, dict):
            return {self.scrub(k): self.scrub(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.scrub(v) for v in value)
        return value

    def _jwt_replacement(self, match: re.Match[str]) -> str:
        header, payload, _signature = match.group(0).split(".")
        if self.keep_tokens:
            return f"{header}.{payload}.[signature redacted]"
        return "[token redacted]"
