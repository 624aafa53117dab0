"""The areas the built-in checks belong to: what `--select` groups, reports show and `after=("area:...")` names."""

from __future__ import annotations

import enum


class Area(str, enum.Enum):
    ENVIRONMENT = "environment"
    SDK = "sdk"
    CREDENTIALS = "credentials"
    REACHABILITY = "reachability"
    SESSION = "session"
    CODE = "code"
    NETWORK = "network"
    AGENT = "agent"
    TOKEN = "token"  # the `token` command's results

    def __str__(self) -> str:
        return self.value
