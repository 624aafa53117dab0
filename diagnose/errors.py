"""Errors the user can fix by changing what they typed: one line on stderr and exit code 2."""

from __future__ import annotations


class UsageError(ValueError):
    """Bad input (an option, a file, a selection): reported in one line, exit code 2, no traceback."""
