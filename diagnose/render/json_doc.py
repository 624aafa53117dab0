"""`--format json`: the versioned, machine-readable run."""

from __future__ import annotations

import json

from livekit_doctor.render.document import RunDocument


def render(doc: RunDocument) -> str:
    return json.dumps(doc.to_dict(), indent=2, sort_keys=False) + "\n"
