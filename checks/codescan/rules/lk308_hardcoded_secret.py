"""LK308: a hard-coded API key or secret.

Secrets in source end up in git history, CI logs and screenshots, and anyone holding the
secret can mint admin tokens. The literal is kept on the finding for the redactor only (and
masked in the shown source line), so that no output ever shows it. Not leaks: the dev server's
documented credentials ("devkey"/"secret"), placeholders ("your-api-secret", "<secret>", "xxx"),
values too short to be real, and literals in tests, examples and docs, which are meant to be read.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK308"
TITLE = "Hard-coded API key or secret"
SEVERITY = "warn"
FIX = ("Read credentials from the environment (LIVEKIT_API_KEY / LIVEKIT_API_SECRET); LiveKitAPI() and "
       "AccessToken() do so when called without them. Rotate a secret that was committed.")
CODES = {
    "hardcoded-secret": "an API secret written in the source (rotate it)",
    "hardcoded-key": "an API key written in the source",
}
FIXES = {"hardcoded-key": "Read the key from the environment (LIVEKIT_API_KEY); LiveKitAPI() and AccessToken() do so "
                         "when called without it."}
DEV_LITERALS = {"devkey", "secret"}  # the `livekit-server --dev` credentials, public anyway
# Placeholder words count at a word's edge ("your-secret", "sk_xxxx", "REPLACE_ME"): inside a random
# secret ("...dxXX7J...", "...TodoQ...") they are chance, and judging it a placeholder would print it.
_WORDS = r"your|x{3,}|changeme|change[-_]me|placeholder|dummy|fake|example|sample|replace|insert|todo|redacted"
PLACEHOLDER = re.compile(rf"(?i)(?<![a-z0-9])(?:{_WORDS})|(?:{_WORDS})(?![a-z0-9])|\*\*\*|[<>{{}}$]|\.\.\.|"
                         r"^(api_?)?(key|secret)$|^test")
NOT_APPLICATION = re.compile(r"(?:^|/)(?:tests?|testing|examples?|samples?|docs?|demos?)/|(?:^|/)test_[^/]*$|"
                             r"_test\.py$|(?:^|/)conftest\.py$")
MIN_LENGTH = {"key": 8, "secret": 16}  # shorter is a made-up value (LiveKit secrets are ~43 characters)


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    if NOT_APPLICATION.search(facts.source.rel):
        return
    for credential in facts.credentials:
        value = credential.value
        if value in DEV_LITERALS or len(value.strip()) < MIN_LENGTH[credential.what] or PLACEHOLDER.search(value) \
                or len(set(value)) < 4:
            continue
        yield facts.finding(ID, credential.node, f"hard-coded API {credential.what} {credential.where}",
                            literal=value if credential.what == "secret" else "", code=f"hardcoded-{credential.what}")
