"""The built-in plugin: every area module's checks and options, and where their pages are.

Registered through the same entry-point group as any third-party plugin. A new check in an
existing area is listed in its module's CHECKS; a new area module is added to AREAS.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path

from livekit_doctor.plugin import Plugin

AREAS = ("environment", "sdk", "credentials", "tokens", "reachability", "signaling", "session", "app_session", "code")


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
    )


PLUGIN = _plugin()
