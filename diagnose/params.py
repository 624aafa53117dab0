"""Command-line value types shared by the engine and plugins."""

from __future__ import annotations

import math
from typing import Any

import click


class Seconds(click.ParamType):
    """A duration: a positive, finite number of seconds (`nan`, `inf`, 0 and negatives are usage errors,
    not a run that never ends or ends at once)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            seconds = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number of seconds", param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value!r} is not a positive, finite number of seconds", param, ctx)
        return seconds
