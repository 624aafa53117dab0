"""The public plugin API: everything a check module (built-in or third-party) imports.

    from livekit_doctor.plugin import Context, Result, check, failed, passed

Only the names below are promised to plugin authors; the engine's other modules may change.
Subcommands (the `livekit_doctor.commands` group) build their Context with `make_context` and
print through a `Sink`, like the doctor itself.
"""

from livekit_doctor.check import Check, Plugin, check
from livekit_doctor.context import Context, make_context
from livekit_doctor.offloop import import_off_loop
from livekit_doctor.output import Sink
from livekit_doctor.redact import shorten
from livekit_doctor.result import Location, Result, Status, errored, failed, passed, skipped, warned

__all__ = [
    "Check", "Context", "Location", "Plugin", "Result", "Sink", "Status", "check", "errored", "failed",
    "import_off_loop", "make_context", "passed", "shorten", "skipped", "warned",
]
