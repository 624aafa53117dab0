"""The built-in plugin: every area module's checks and options, and where their pages are.

Registered through the same entry-point group as any third-party plugin. A new check in an
existing area is listed in its module's CHECKS; a new area module is added to AREAS.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

from livekit_doctor.plugin import Plugin

AREAS = ("environment", "sdk", "credentials", "tokens", "reachability", "signaling", "session", "app_session", "code",
         "network", "agents")
# The causal chain the diagnosis ranks root causes by, most fundamental first: environment,
# interpreter and SDK, credentials, DNS, TCP, TLS, is it LiveKit, server auth, clocks,
# signalling and resuming it, the advertised media addresses and ports, media and the path it takes, the
# app's code, the app's endpoint and its token, the agent. Every built-in check has a place (the registry
# refuses one without).
CHAIN = ("LK0", "LK1", "LK20", "LK401", "LK402", "LK403", "LK404", "LK205", "LK206", "LK405", "LK704", "LK406",
         "LK705", "LK702", "LK701", "LK501", "LK703",
         "LK3", "LK502", "LK503", "LK6")


def _docs_dir() -> Path:
    """docs/checks in a source checkout, else the copy installed under <prefix>/share."""
    source = Path(__file__).resolve().parent.parent / "docs" / "checks"
    return source if source.is_dir() else Path(sys.prefix) / "share" / "livekit-doctor" / "checks"


def _plugin() -> Plugin:
    modules = [import_module(f"livekit_doctor.checks.{area}") for area in AREAS]
    return Plugin(
        name="builtin",
        checks=tuple(chk for module in modules for chk in module.CHECKS),
        options=tuple(opt for module in modules for opt in getattr(module, "OPTIONS", ())),
        docs_dir=_docs_dir(),
        docs_url="docs/checks",  # reports link to the page as it sits in the project's repository
        chain=CHAIN,
    )


PLUGIN = _plugin()
