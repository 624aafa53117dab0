"""The `livekit-doctor` command line: a thin layer over registry, runner and renderers."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from diagnose import __version__, registry as registry_mod
from diagnose.context import Context
from diagnose.output import OutputError, check_writable, write_atomic
from diagnose.registry import Registry, SelectionError
from diagnose.render import FORMATS, renderer
from diagnose.render.document import RunDocument
from diagnose.result import Result
from diagnose.summary import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

PROG = "livekit-doctor"


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


class Progress:
    """Prints each result as it lands; on a terminal, a status line shows what is still running."""

    def __init__(self, ctx: Context, total: list[str], *, verbose: bool, stream: Any) -> None:
        self.ctx, self.pending, self.verbose, self.stream = ctx, list(total), verbose, stream
        self.live = use_color(stream)

    def __call__(self, result: Result) -> None:
        from diagnose.render.text import result_block

        if result.check_id in self.pending:
            self.pending.remove(result.check_id)
        block = self.ctx.redactor.redact(result_block(result, verbose=self.verbose, color=self.live))
        if self.live:
            self.stream.write("\r\x1b[K")
        click.echo(block, file=self.stream, color=self.live)
        self.status()

    def status(self) -> None:
        if self.live and self.pending:
            shown = " ".join(self.pending[:6]) + (" …" if len(self.pending) > 6 else "")
            self.stream.write(click.style(f"running {len(self.pending)}: {shown}", dim=True))
            self.stream.flush()


def _run_options(reg: Registry) -> list[click.Parameter]:
    return [
        click.Option(["--select"], multiple=True, metavar="IDS", help="Only these check IDs or prefixes (LK2, LK401)."),
        click.Option(["--ignore"], multiple=True, metavar="IDS", help="Leave out these check IDs or prefixes."),
        click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), help="Budget for the whole run, in seconds."),
        click.Option(["--fail-on"], type=click.Choice(["warn", "fail"]), default="fail", show_default=True,
                     help="Lowest status that makes the exit code 1."),
        click.Option(["--format", "fmt"], type=click.Choice(FORMATS), default="text", show_default=True),
        click.Option(["--output", "-o"], type=click.Path(dir_okay=False, path_type=Path), help="Write the report here."),
        click.Option(["--project"], type=click.Path(file_okay=False, path_type=Path), default=".",
                     help="The application's directory (default: the current directory)."),
        click.Option(["-v", "--verbose"], is_flag=True, help="Show details, facts and tracebacks."),
        *reg.options,
    ]


def _make_context(params: dict[str, Any]) -> Context:
    project = Path(params.get("project") or ".")
    if not project.is_dir():
        raise click.BadParameter(f"project directory {project} does not exist", param_hint="--project")
    return Context(project_dir=project.resolve(), options=params)


def _doctor(reg: Registry, params: dict[str, Any]) -> int:
    checks = reg.select(params["select"], params["ignore"])
    output: Path | None = params["output"]
    if output is not None:
        check_writable(output)
    ctx = _make_context(params)
    fmt, verbose = params["fmt"], params["verbose"]
    stream_text = fmt == "text" and output is None
    progress_stream = sys.stdout if (fmt == "text") else sys.stderr
    for warning in reg.warnings:
        click.echo(f"warning: {warning}", err=True)
    progress = Progress(ctx, [c.id for c in checks], verbose=verbose, stream=progress_stream)
    on_result = progress if (fmt == "text" or use_color(sys.stderr)) else None
    if on_result is not None:
        progress.status()

    import asyncio

    from diagnose.runner import run_checks

    run = asyncio.run(run_checks(checks, ctx, on_result=on_result, timeout=params["timeout"]))
    doc = RunDocument(
        results=run.results,
        started_at=run.started_at,
        duration=run.duration,
        fail_on=params["fail_on"],
        interrupted=run.interrupted,
        timed_out=run.timed_out,
        warnings=list(reg.warnings),
        verbose=verbose,
    )
    if stream_text:
        from diagnose.render.text import footer

        click.echo(ctx.redactor.redact(footer(doc)))
    else:
        text = ctx.redactor.redact(renderer(fmt)(doc))
        if output is not None:
            write_atomic(output, text)
            click.echo(f"{doc.verdict}; {fmt} report written to {output}", err=fmt != "text")
        else:
            click.echo(text, nl=False)
    return EXIT_INTERRUPTED if run.interrupted else doc.exit_code


def build_cli(reg: Registry) -> click.Group:
    @click.group(
        name=PROG,
        invoke_without_command=True,
        params=_run_options(reg),
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(__version__, prog_name=PROG)
    @click.pass_context
    def cli(click_ctx: click.Context, **params: Any) -> None:
        """Diagnose a LiveKit setup: SDK, credentials, server, tokens and media.

        With no command, runs every check and prints one line per check.
        """
        if click_ctx.invoked_subcommand is None:
            click_ctx.exit(_doctor(reg, params))

    @cli.command("list")
    def list_checks() -> None:
        """List the available checks."""
        rows = [(c.id, c.area, c.title, c.plugin) for c in sorted(reg.checks.values(), key=lambda c: c.id)]
        widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(("ID", "AREA", "TITLE", "PLUGIN"))]
        for row in [("ID", "AREA", "TITLE", "PLUGIN"), *rows]:
            click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        for warning in reg.warnings:
            click.echo(f"warning: {warning}", err=True)

    @cli.command("explain")
    @click.argument("check_id")
    def explain(check_id: str) -> None:
        """Show the documentation page of a check."""
        chk = reg.checks.get(check_id.upper())
        if chk is None:
            raise click.UsageError(f"unknown check ID: {check_id} (see '{PROG} list')")
        click.echo(chk.explain())

    for command in _plugin_commands():
        cli.add_command(command)
    return cli


def _plugin_commands() -> list[click.Command]:
    """Extra subcommands (scan, token, report ...) registered under `livekit_doctor.commands`."""
    from importlib.metadata import entry_points

    commands = []
    for ep in entry_points(group="livekit_doctor.commands"):
        try:
            commands.append(ep.load())
        except Exception as exc:
            click.echo(f"warning: command {ep.name} failed to load: {type(exc).__name__}: {exc}", err=True)
    return commands


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors are one line and exit 2; a crash of the doctor itself exits 3."""
    args = sys.argv[1:] if argv is None else argv
    try:
        reg = registry_mod.load()
        code = build_cli(reg).main(args=args, prog_name=PROG, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        click.echo(f"{PROG}: error: {exc.format_message()}", err=True)
        code = EXIT_USAGE
    except (SelectionError, OutputError) as exc:
        click.echo(f"{PROG}: error: {exc}", err=True)
        code = EXIT_USAGE
    except click.exceptions.Abort:
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as exc:
        click.echo(f"{PROG}: internal error: {type(exc).__name__}: {exc}", err=True)
        if "-v" in args or "--verbose" in args:
            click.echo(traceback.format_exc(), err=True)
        code = EXIT_INTERNAL
    sys.exit(code or 0)
