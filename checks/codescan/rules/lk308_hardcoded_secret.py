"""LK308: a hard-coded API key or secret.

Secrets in source end up in git history, CI logs and screenshots, and anyone holding the
secret can mint admin tokens. The literal is kept on the finding for the redactor only, so
that no output ever shows it; well-known dev values ("devkey", "secret") need no redacting.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

if TYPE_CHECKING:
    from livekit_doctor.checks.codescan.facts import Finding, ModuleFacts
    from livekit_doctor.checks.codescan.knowledge import Knowledge

ID = "LK308"
TITLE = "Hard-coded API key or secret"
SEVERITY = "warn"
FIX = ("Read credentials from the environment (LIVEKIT_API_KEY / LIVEKIT_API_SECRET); LiveKitAPI() and "
       "AccessToken() do so when called without them. Rotate a secret that was committed.")
DEV_LITERALS = {"devkey", "secret"}  # the `livekit-server --dev` credentials, public anyway


def check(facts: ModuleFacts, sdk: Knowledge) -> Iterator[Finding]:
    for credential in facts.credentials:
        secret = credential.what == "secret" and credential.value not in DEV_LITERALS
        yield facts.finding(ID, credential.node, f"hard-coded API {credential.what} passed to {credential.cls}()",
                            literal=credential.value if secret else "")
