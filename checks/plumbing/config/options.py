"""The command-line options the wing reads, as factories: the doctor and each subcommand declare
the same option the same way (a click.Option belongs to one command, so each gets its own); and
`wing_options(ctx)`, the typed values every check reads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import click

from livekit_doctor.plugin import Context, Seconds

DEFAULT_NET_TIMEOUT = 3.0  # each network step; a broken setup is diagnosed within about 3-5 s


def settings_options() -> list[click.Option]:
    """Where the URL, key and secret come from (see settings.py for the precedence)."""
    return [
        click.Option(["--url"], metavar="URL", help="LiveKit server URL (default: $LIVEKIT_URL)."),
        click.Option(["--api-key"], metavar="KEY", help="API key (default: $LIVEKIT_API_KEY)."),
        click.Option(["--api-secret"], metavar="SECRET", help="API secret (default: $LIVEKIT_API_SECRET)."),
        click.Option(["--env-file"], type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="FILE",
                     help="A .env file with LIVEKIT_* values (default: .env in the project directory)."),
    ]


def network_options() -> list[click.Option]:
    """How every network step talks to the server: its timeout and the CAs it trusts."""
    return [
        click.Option(["--net-timeout"], type=Seconds(), metavar="SECONDS",
                     help=f"Timeout of each network step (default {DEFAULT_NET_TIMEOUT:g} s)."),
        click.Option(["--ca-file"], type=click.Path(exists=True, dir_okay=False), metavar="PEM",
                     help="Extra CA certificates to trust for wss:// / https:// (a private CA)."),
    ]


def project_option() -> click.Option:
    return click.Option(["--project"], type=click.Path(file_okay=False, path_type=Path), default=".",
                        help="The application's directory (default: the current directory).")



def exclude_option() -> click.Option:
    return click.Option(["--exclude"], multiple=True, metavar="GLOB",
                        help="Leave these files or directories out of the code scan (repeatable).")


DEFAULT_AGENT_TURNS = 2  # ~1 s a turn even with an instant agent: 3 would not fit LK6xx in 3 s (docs/agents.md)


def agent_options() -> list[click.Option]:
    """Which voice agent to dispatch and how many times to talk to it (LK6xx)."""
    return [
        click.Option(["--agent", "agent"], metavar="NAME",
                     help="Voice agent to dispatch and talk to (default: the agent_name the project's worker "
                          "registers; automatic dispatch when it sets none)."),
        click.Option(["--agent-turns"], type=click.IntRange(min=0, max=20), metavar="N",
                     help=f"Utterances said to the agent to measure its answer latency (default "
                          f"{DEFAULT_AGENT_TURNS}; 0: join only)."),
    ]


@dataclass(frozen=True)
class WingOptions:
    """The wing's command-line options, typed: what checks and plumbing read instead of option-name strings.
    A missing option (a subcommand that does not declare it, a test's Context) has its default."""

    url: str | None = None
    api_key: str | None = None
    api_secret: str | None = None
    env_file: Path | None = None
    net_timeout: float = DEFAULT_NET_TIMEOUT
    ca_file: str | None = None
    python: str | None = None
    exclude: tuple[str, ...] = ()
    agent: str | None = None
    agent_turns: int = DEFAULT_AGENT_TURNS
    app_endpoint: str | None = None
    app_payload: str | None = None


def wing_options(ctx: Context) -> WingOptions:
    """The run's options, read once from what the command line parsed."""

    def read() -> WingOptions:
        given = {f.name: ctx.options[f.name] for f in fields(WingOptions) if ctx.options.get(f.name) is not None}
        if "exclude" in given:
            given["exclude"] = tuple(given["exclude"])
        return WingOptions(**given)

    return ctx.memo("wing.options", read)
