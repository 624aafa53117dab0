"""Where the LiveKit URL, API key and secret come from, resolved once per run.

Every LK2xx-LK5xx check reads them through `livekit_settings(ctx)` so that all agree on
the values and on where each came from. Precedence (highest first): command-line flags,
environment (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import click

from diagnose.context import Context

FIELDS = {"url": "LIVEKIT_URL", "api_key": "LIVEKIT_API_KEY", "api_secret": "LIVEKIT_API_SECRET"}


@dataclass(frozen=True)
class LiveKitSettings:
    url: str | None = None
    api_key: str | None = None
    api_secret: str | None = None
    sources: dict[str, str] = field(default_factory=dict)  # field -> "--url", "env LIVEKIT_URL", ...

    @property
    def complete(self) -> bool:
        return bool(self.url and self.api_key and self.api_secret)


def resolve(ctx: Context) -> LiveKitSettings:
    values: dict[str, str | None] = {}
    sources: dict[str, str] = {}
    for name, env_name in FIELDS.items():
        flag = ctx.option(name)
        if flag:
            values[name], sources[name] = flag, f"--{name.replace('_', '-')}"
        elif ctx.env.get(env_name):
            values[name], sources[name] = ctx.env[env_name], f"env {env_name}"
        else:
            values[name] = None
    ctx.redactor.add(values["api_secret"])
    return LiveKitSettings(sources=sources, **values)


def livekit_settings(ctx: Context) -> LiveKitSettings:
    """The run's settings, resolved on first use and shared by every check."""
    return ctx.memo("livekit.settings", lambda: resolve(ctx))


OPTIONS = [
    click.Option(["--url"], metavar="URL", help="LiveKit server URL (default: $LIVEKIT_URL)."),
    click.Option(["--api-key"], metavar="KEY", help="API key (default: $LIVEKIT_API_KEY)."),
    click.Option(["--api-secret"], metavar="SECRET", help="API secret (default: $LIVEKIT_API_SECRET)."),
]
