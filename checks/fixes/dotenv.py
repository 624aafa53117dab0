"""`.env` values the SDK would use damaged (LK202/LK203): whitespace or a newline kept inside the quotes,
or quotes kept as part of the value. Only those lines are rewritten; the rest of the file, its
comments and its mode are kept, and the original is kept beside it as a backup."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass

from livekit_doctor.checks.fixes.model import Change, Guidance

VARIABLES = {"LIVEKIT_URL": "LK202", "LIVEKIT_API_KEY": "LK203", "LIVEKIT_API_SECRET": "LK203"}
SECRET = "LIVEKIT_API_SECRET"
HEAD = re.compile(r"^(?P<head>[ \t]*(?:export[ \t]+)?[A-Za-z_][\w.]*[ \t]*=[ \t]*)(?P<quote>['\"]?)")
TAIL = re.compile(r"(?P<tail>[ \t]+#[^'\"\r\n]*)?(?P<end>\r?\n)?$")


@dataclass
class EnvPlan:
    before: str
    after: str
    changes: list[Change]
    guidance: list[Guidance]
    secrets: list[str]  # raw and cleaned secret values, for the redactor


def clean(value: str) -> str:
    """The value as meant: surrounding whitespace gone, one level of kept quotes gone."""
    value = value.strip()
    while len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        value = value[1:-1].strip()
    return value


def damage(value: str) -> str | None:
    if value != value.strip():
        return "a newline" if "\n" in value.strip(" \t") or value.endswith("\n") else "whitespace"
    if len(value) > 1 and value[0] == value[-1] and value[0] in "\"'":
        return "quotes kept as part of the value"
    return None


def plan_env(rel: str, text: str, wanted) -> EnvPlan:
    """The cleaned file for the LiveKit variables `wanted(rule)` selects."""
    from dotenv.parser import parse_stream

    out, changes, guidance, secrets = [], [], [], []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        rule = VARIABLES.get(binding.key or "")
        what = damage(binding.value) if rule and binding.value is not None and not binding.error else None
        if what is None or not wanted(rule):
            out.append(original)
            continue
        value = clean(binding.value)
        if binding.key == SECRET:
            secrets += [binding.value, value]
        line = _line(original, value)
        place = f"{binding.key} ({what})"
        if line is None:
            guidance.append(Guidance(rule, rel, binding.original.line, 1, f"{place} cannot be requoted safely",
                                     f"Write {binding.key}=<value> by hand, without quotes or whitespace."))
            out.append(original)
            continue
        out.append(line)
        changes.append(Change(rel, (rule,), f"{binding.key}: {what} removed", binding.original.line,
                              tuple(original.splitlines()), tuple(line.splitlines())))
    return EnvPlan(text, "".join(out), changes, guidance, secrets)


def _line(original: str, value: str) -> str | None:
    """`KEY=value` written as the original was (export, spacing, quote, trailing comment, line end)."""
    head = HEAD.match(original)
    last = original.splitlines(keepends=True)[-1]
    tail = TAIL.search(last)
    if head is None or tail is None:
        return None
    quote = head["quote"]
    if quote == '"' and re.search(r'["\\$`]', value):
        quote = "'"
    if quote and quote in value or not quote and re.search(r"[\s#'\"\\]", value):
        return None
    return f"{head['head']}{quote}{value}{quote}{tail['tail'] or ''}{tail['end'] or ''}"
