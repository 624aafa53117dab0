"""The public plugin API: everything a check module (built-in or third-party) imports.

    from livekit_doctor.plugin import Context, Result, check, failed, passed

Only the names below are promised to plugin authors; the engine's other modules may change.
Subcommands (the `livekit_doctor.commands` group) build their Context with `make_context` and
print through a `Sink`, like the doctor itself. What is worth keeping between runs goes under
`ctx.cache_dir` (None with --no-cache) through `write_entry`/`read_entry`, which drop an entry
as soon as a file it was computed from changes.
"""

from livekit_doctor.cache import cache_sizes, clear_cache, prune, read_entry, write_atomic, write_entry
from livekit_doctor.check import Check, Code, Plugin, check, code
from livekit_doctor.context import Context, make_context
from livekit_doctor.offloop import import_off_loop, in_daemon_thread
from livekit_doctor.output import Sink
from livekit_doctor.params import Seconds
from livekit_doctor.redact import shorten
from livekit_doctor.result import (Finding, Location, Result, Severity, Status, errored, failed, finding, json_safe,
                                   judged, noted, passed, skipped, warned)
from livekit_doctor.status import StatusLine

__all__ = [
    "Check", "Code", "Context", "Finding", "Location", "Plugin", "Result", "Seconds", "Severity", "Sink", "Status",
    "StatusLine", "cache_sizes", "check", "clear_cache", "code", "errored", "failed", "finding", "import_off_loop",
    "in_daemon_thread", "json_safe", "judged", "make_context", "noted", "passed", "prune", "read_entry", "shorten",
    "skipped", "warned", "write_atomic", "write_entry",
]
