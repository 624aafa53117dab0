"""`--format json`: the versioned, machine-readable run."""

from __future__ import annotations

import json

from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import json_safe


def render(doc: RunDocument) -> str:
    return json.dumps(json_safe(doc.to_dict()), indent=2, sort_keys=False) + "\n"
