"""Redaction applied to every rendered output: secrets never leave the process.

A secret can reach output in many shapes: whole, JSON-escaped in an app's error body,
URL-encoded, base64-encoded (a Basic auth header), split in two source literals, or cut short
by a truncation. So a known secret is found by its 8-character windows, over every encoded
form: any run of text made of windows of a secret is removed, whatever surrounds it. All
patterns are linear in the text (no backtracking across a long run), so a 100 KB URL costs
milliseconds, not minutes.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any
from urllib.parse import quote, quote_plus

WINDOW = 8  # a run this long of a known secret's text is removed
MIN_WINDOWED = 12  # shorter secrets are matched whole only (their windows would hit ordinary words)
PLACEHOLDER = "[secret redacted]"
# header.payload.signature, base64url; JWT headers always start with '{"' -> 'eyJ'. The lookbehind makes
# each run of base64url characters a single candidate (linear time); the signature may be cut short.
_JWT = re.compile(r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# scheme://user:password@ - the password runs to the last '@' of the authority (a password may hold '@').
_URL_PASSWORD = re.compile(r"(?<![a-zA-Z0-9+.-])(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]{0,30}://)"
                           r"(?P<user>[^:/@\s?#]{0,256}):(?P<pw>[^/\s?#]{1,1024})@")


def shorten(value: str) -> str:
    """Show an identifier (an API key) without revealing it: first 3 and last 2 characters."""
    if len(value) <= 6:
        return "*" * len(value)
    return f"{value[:3]}…{value[-2:]}"


def encodings(secret: str) -> set[str]:
    """The forms a secret takes in output: as is, JSON-escaped, URL-encoded, and base64 at each of the
    three byte alignments it can have inside a longer encoded text (standard and URL-safe alphabets)."""
    forms = {secret, json.dumps(secret)[1:-1], json.dumps(secret, ensure_ascii=False)[1:-1],
             quote(secret, safe=""), quote_plus(secret)}
    raw = secret.encode("utf-8", "surrogatepass")
    for start in range(3):
        chunk = raw[start:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]
        if chunk:
            forms.add(base64.b64encode(chunk).decode())
            forms.add(base64.urlsafe_b64encode(chunk).decode())
    return {form for form in forms if form}


class Redactor:
    """Knows the run's secrets and scrubs them, JWTs and URL passwords from any text."""

    def __init__(self, secrets: list[str] | None = None, *, keep_tokens: bool = False) -> None:
        self._whole: frozenset[str] = frozenset()  # short secrets, matched exactly
        self._windows: frozenset[str] = frozenset()  # every WINDOW-long slice of every form of a long secret
        self.keep_tokens = keep_tokens
        for secret in secrets or ():
            self.add(secret)

    def add(self, secret: str | None) -> None:
        """Register a secret (threads may add while others redact: the sets are replaced, never mutated)."""
        if not secret:
            return
        whole, windows = set(self._whole), set(self._windows)
        for variant in {secret, secret.strip()}:
            if len(variant) >= MIN_WINDOWED:
                for form in encodings(variant):
                    windows.update(form[i:i + WINDOW] for i in range(len(form) - WINDOW + 1))
            elif len(variant) >= 4:
                whole.add(variant)
        self._whole, self._windows = frozenset(whole), frozenset(windows)

    def redact(self, text: str) -> str:
        if not text:
            return text
        text = _JWT.sub(self._jwt_replacement, text)
        text = _URL_PASSWORD.sub(r"\g<scheme>\g<user>:***@", text)
        text = self._remove_windows(text)
        if self._whole:  # one pass, longest first: a placeholder is never redacted again
            pattern = "|".join(re.escape(s) for s in sorted(self._whole, key=len, reverse=True))
            text = re.sub(pattern, PLACEHOLDER, text)
        return text

    def _remove_windows(self, text: str) -> str:
        """Every run of text covered by windows of a known secret becomes one placeholder (linear)."""
        windows = self._windows
        if not windows or len(text) < WINDOW:
            return text
        spans: list[list[int]] = []
        for i in range(len(text) - WINDOW + 1):
            if text[i:i + WINDOW] in windows:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + WINDOW
                else:
                    spans.append([i, i + WINDOW])
        if not spans:
            return text
        out, last = [], 0
        for start, end in spans:
            out += [text[last:start], PLACEHOLDER]
            last = end
        out.append(text[last:])
        return "".join(out)

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
