"""Finding codes that check modules in several areas name as causes, kept in one place.

Check modules do not import each other; a group of codes that many consequences share (every way
the server cannot be talked to) is defined here, beside the kinds it is built from.
"""

from __future__ import annotations

from livekit_doctor.checks.plumbing.network.probes import TLS_KINDS

CONNECT_KINDS = ("refused", "timeout", "unreachable")  # LK402's codes for a port nothing can connect to
HTTP_KINDS = ("no-answer", "not-http", "tls-port", "partial-proxy", "not-ready", "not-livekit", "path-not-served")  # LK404's failures
# every finding that says the server cannot be talked to: what a later check's failure to reach it follows from
UNREACHABLE = ("LK401.no-such-host", *(f"LK402.{k}" for k in CONNECT_KINDS), *(f"LK403.{k}" for k in TLS_KINDS),
               *(f"LK404.{k}" for k in HTTP_KINDS))
