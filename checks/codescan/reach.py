"""Which of the files that mention LiveKit could give a finding at all, judged from their text alone.

Every rule reads values the analysis pass resolves, and each of those is named in the code: a finding
needs one of the SDK's names (`LiveKitAPI`, `AccessToken`, a service method next to a service), rtc's
Room connected, a runner (`asyncio.run`, `run_until_complete`) in async code, a credential-like name
given a literal, an import the installed SDK refutes, or a project coroutine or client factory called.
A file naming none of them cannot give a finding whatever its syntax tree, so it is not parsed (most
files of a large project: parsing is the bulk of the scan's time). Over-inclusive on purpose, like
`scan.relevant`: a file it keeps may still have nothing to report. A rule reading a new name must
add it here (tests/unit/test_codescan_reach.py checks every fixture and rule example).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from livekit_doctor.checks.codescan.credentials import CREDENTIAL_ARGS
from livekit_doctor.checks.codescan.facts import Project
from livekit_doctor.checks.codescan.knowledge import NEVER_IN_LIVEKIT_API, ROOM_METHODS, SERVICES, Knowledge
from livekit_doctor.checks.codescan.rules.lk301_unknown_names import CHECKED_REFERENCES, WHY_NO_TOP_LEVEL
from livekit_doctor.checks.codescan.rules.lk308_hardcoded_secret import NOT_APPLICATION

# SDK classes whose objects have methods a rule judges, and names only a rule's message uses.
SDK_NAMES = {"LiveKitAPI", "AccessToken", "TokenVerifier", "WebhookReceiver", *CREDENTIAL_ARGS, *CHECKED_REFERENCES,
             *NEVER_IN_LIVEKIT_API}
# Most patterns start with a literal, which the regex engine scans for quickly (a leading \b it cannot).
GAP = r"(?:\s|\\|#[^\n]*\n)*"  # between two tokens: spaces, line breaks, continuations, comments (in brackets)
SERVICE = re.compile(rf"\b(?:{'|'.join(SERVICES)})\b")
# `api.room()`: a livekit.api member named like a service is typed a class (nonsense, but typed all the same)
SERVICE_CLASS = (re.compile(rf"api{GAP}(?:\.{GAP}(?:{'|'.join(SERVICES)})\b|as\b)"),
                 re.compile(rf"from{GAP}livekit{GAP}\.{GAP}api{GAP}import\b"))
ROOM_CLASS = (re.compile(rf"rtc{GAP}(?:\.{GAP}Room\b|as\b)"),
              re.compile(rf"from{GAP}livekit{GAP}\.{GAP}rtc{GAP}import\b"))
CONNECT = re.compile(rf"\.{GAP}(?:dis)?connect\b")
ASYNC = re.compile(r"async\b")
RUNNER = (re.compile(r"run_until_complete\b"), re.compile(rf"asyncio{GAP}(?:\.{GAP}run\b|as\b)"),
          re.compile(rf"from{GAP}asyncio{GAP}import\b"))
# LK308's literals (a non-empty str): assigned to a credential-like name, given as api_key=/api_secret=, or
# getenv()'s default; an annotation continued on the next line (`X: Annotated[`) is let through unread.
CREDENTIAL_PARTS = ("api_key", "api_secret", "apikey", "apisecret", "lkkey", "lk_key", "lksecret", "lk_secret",
                    "livekitkey", "livekit_key", "livekitsecret", "livekit_secret")
_NAME = r"(?:(?:livekit|lk)_?(?:api_?)?(?:key|secret)|api_(?:key|secret))\w*"
_LITERAL = r"""[\s(\\]*(?:#[^\n]*\n[\s(\\]*)*[rubf]*(?:"(?!")|'(?!')|""\"|'''|(?:""|'')""" + GAP + r"""['"])"""
CREDENTIAL = re.compile(rf"(?im){_NAME}(?:{GAP}[=:](?:(?:[^\n]|\\\n)*?=)?{_LITERAL}|['\"]{GAP},{_LITERAL}|"
                        rf"{GAP}:[^\n]*[\[(][ \t]*(?:#[^\n]*)?$)")
CREDENTIAL_LOWER = re.compile(CREDENTIAL.pattern.replace("(?im)", "(?m)"))  # on the lower-cased text: 3x faster
SUBPACKAGE = re.compile(rf"livekit{GAP}\.{GAP}(\w+)")
FROM_LIVEKIT = re.compile(rf"from{GAP}livekit{GAP}import{GAP}(\((?:[^)#]|#[^\n]*)*\)?|(?:[^\n\\#;]|\\\n)*)")
CAPITALISED = re.compile(r"\b[A-Z]")
FROM_IMPORT = re.compile(rf"from\b([\w\s.\\]*?)\bimport{GAP}(\((?:[^)#]|#[^\n]*)*\)?|(?:[^\n\\#;]|\\\n)*)")
WORD = re.compile(r"\w+")
STATEMENT_START = re.compile(r"(?:^|[;:])(?:[ \t]|\\\n)*\Z", re.MULTILINE)  # what may come before a call statement


@dataclass(frozen=True)
class Reach:
    """What can lead to a finding, for one SDK (what it lacks, its service methods) and one project."""

    names: tuple[str, ...]  # any of these in the text: maybe an SDK object
    methods: tuple[str, ...]  # service methods: with a service's name, maybe an SDK call
    wrappers: frozenset[tuple[str, str]]  # (module, name) of the project's module-level async defs (LK311)
    factories: frozenset[tuple[str, str]]  # and of its plain defs making a LiveKitAPI (LK304)
    knowledge: Knowledge
    static: bool = True  # also the tests that do not depend on the SDK (False: `beyond` another Reach)

    @classmethod
    def of(cls, knowledge: Knowledge, project: Project) -> "Reach":
        methods = {name.partition(".")[2] for name in knowledge.methods if name.partition(".")[0] in SERVICES}
        missing = {name for name, present in knowledge.names.items() if not present}
        def pairs(origins: frozenset[str]) -> frozenset[tuple[str, str]]:
            return frozenset((module, name) for module, _, name in (origin.partition(":") for origin in origins))

        return cls(tuple(sorted({*SDK_NAMES, *missing})), tuple(sorted({*ROOM_METHODS, *methods})),
                   pairs(project.async_wrappers), pairs(project.client_factories), knowledge)

    def beyond(self, other: "Reach") -> "Reach":
        """What this one adds to `other` (for the same project): the files it picks that `other` did not."""
        return replace(self, names=tuple(n for n in self.names if n not in other.names),
                       methods=tuple(m for m in self.methods if m not in other.methods), static=False)

    def could_find(self, rel: str, text: str) -> bool:
        """The text names something a rule could report on (False: no finding possible, no need to parse).

        Substring tests first (fast), a regular expression only where they pass. Identifiers are read the
        way the parser reads them (NFKC: `ＬiveKitAPI` is LiveKitAPI)."""
        if not text.isascii():
            text = unicodedata.normalize("NFKC", text)
        if any(name in text for name in self.names):
            return True  # an SDK object, constructor (credentials by position) or name the SDK lacks
        if any(method in text for method in self.methods) and SERVICE.search(text):
            return True  # a service call on a receiver of unknown type
        return (self.static and self._static(rel, text)) or self._refuted_import(text)  # LK301

    def _static(self, rel: str, text: str) -> bool:
        if "Room" in text and "connect" in text and _any(ROOM_CLASS, text) and CONNECT.search(text):
            return True  # rtc.Room().connect()
        if "api" in text and _any(SERVICE_CLASS, text) and SERVICE.search(text):
            return True
        if "async" in text and "run" in text and _any(RUNNER, text) and ASYNC.search(text):
            return True  # LK307, LK313: a runner in async code
        if self._credential(rel, text):
            return True  # LK308
        # LK304, LK311: a project coroutine or client factory, imported and called
        return bool(self.wrappers or self.factories) and self._project_call(text)

    def _project_call(self, text: str) -> bool:
        """`from <module> import <name>` (the way the pass learns a name's origin), and `<name>(` (or its alias)."""
        for module, members in FROM_IMPORT.findall(text) if "import" in text else ():
            last = WORD.findall(module)[-1:]
            names = WORD.findall(members)
            if not last or not names:
                continue
            imported = {(last[0], name) for name in names}
            if imported & self.wrappers or imported & self.factories:
                anywhere = bool(imported & self.factories)
                if any(_called(name, text, anywhere) for name in names if name != "as"):
                    return True
        return False

    @staticmethod
    def _credential(rel: str, text: str) -> bool:
        if NOT_APPLICATION.search(rel):
            return False
        if not text.isascii():  # (str.lower() and the rule's IGNORECASE differ on a few letters, like İ)
            return bool(CREDENTIAL.search(text))
        low = text.lower()
        return any(part in low for part in CREDENTIAL_PARTS) and bool(CREDENTIAL_LOWER.search(low))

    def _refuted_import(self, text: str) -> bool:
        sdk = self.knowledge
        if "livekit" not in text:
            return False
        if not sdk.api_importable:
            return True
        if sdk.subpackages is not None and any(
                first not in ("api", "rtc") and not sdk.has_subpackage(first) for first in SUBPACKAGE.findall(text)):
            return True
        return sdk.family in WHY_NO_TOP_LEVEL and any(
            CAPITALISED.search(match) for match in FROM_LIVEKIT.findall(text))


def _any(patterns: tuple[re.Pattern[str], ...], text: str) -> bool:
    return any(pattern.search(text) for pattern in patterns)


def _called(name: str, text: str, anywhere: bool) -> bool:
    """`name(` as a word: anywhere (a factory, LK304), or starting a statement (a wrapper, LK311)."""
    return any((start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")) and (
        anywhere or STATEMENT_START.search(text, max(0, start - 200), start) is not None)
        for start in (match.start() for match in re.finditer(rf"{re.escape(name)}{GAP}\(", text)))
