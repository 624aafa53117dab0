"""livekit-doctor's built-in checks, one module per area, registered through entry points."""

from __future__ import annotations

import sys
from pathlib import Path


def _docs_dir() -> Path:
    """docs/checks in a source checkout, else the copy installed under <prefix>/share."""
    source = Path(__file__).resolve().parent.parent / "docs" / "checks"
    return source if source.is_dir() else Path(sys.prefix) / "share" / "livekit-doctor" / "checks"


DOCS_DIR = _docs_dir()
