"""The command line: a thin layer over registry, runner, sink and renderers, for the product it is given."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from livekit_doctor import PRODUCT, registry as registry_mod
from livekit_doctor.context import Context, make_context
from livekit_doctor.errors import UsageError
from livekit_doctor.output import Sink
from livekit_doctor.product import Product
from livekit_doctor.registry import Registry
from livekit_doctor.render import FORMATS
from livekit_doctor.render.document import DocumentError, RunDocument, redact_result
from livekit_doctor.result import Result
from livekit_doctor.summary import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


class Progress:
    """Prints each result as it lands; on a terminal, a status line shows what is still running."""

    def __init__(self, ctx: Context, total: list[str], *, verbose: bool, stream: Any) -> None:
        self.ctx, self.pending, self.verbose, self.stream = ctx, list(total), verbose, stream
        self.live = use_color(stream)

    def __call__(self, result: Result) -> None:
        from livekit_doctor.render.text import result_block

        if result.check_id in self.pending:
            self.pending.remove(result.check_id)
        block = result_block(redact_result(result, self.ctx.redactor), verbose=self.verbose, color=self.live)
        if self.live:
            self.stream.write("\r\x1b[K")
        click.echo(block, file=self.stream, color=self.live)
        self.status()

    def status(self) -> None:
        if self.live and self.pending:
            shown = " ".join(self.pending[:6]) + (" …" if len(self.pending) > 6 else "")
            self.stream.write(click.style(f"running {len(self.pending)}: {shown}", dim=True))
            self.stream.flush()


def format_option() -> click.Option:
    return click.Option(["--format", "fmt"], type=click.Choice(FORMATS), default="text", show_default=True)


def output_option() -> click.Option:
    return click.Option(["--output", "-o"], type=click.Path(dir_okay=False, path_type=Path), help="Write the report here.")


def verbose_option() -> click.Option:
    return click.Option(["-v", "--verbose"], is_flag=True, help="Show details, facts and tracebacks.")


def _run_options(reg: Registry, product: Product) -> list[click.Parameter]:
    return [
        click.Option(["--select"], multiple=True, metavar="IDS", help="Only these check IDs or prefixes (LK2, LK401)."),
        click.Option(["--ignore"], multiple=True, metavar="IDS", help="Leave out these check IDs or prefixes."),
        click.Option(["--timeout"], type=click.FloatRange(min=0, min_open=True), help="Budget for the whole run, in seconds."),
        click.Option(["--fail-on"], type=click.Choice(["warn", "fail"]), default="fail", show_default=True,
                     help="Lowest status that makes the exit code 1."),
        format_option(),
        output_option(),
        click.Option(["--snapshot"], type=click.Path(dir_okay=False, path_type=Path),
                     help=f"Where to write the Markdown snapshot (default: {product.snapshot_prefix}-<UTC time>.md)."),
        click.Option(["--no-snapshot"], is_flag=True, help="Do not write the Markdown snapshot."),
        click.Option(["--junit"], type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write JUnit XML here (one testcase per check)."),
        click.Option(["--project"], type=click.Path(file_okay=False, path_type=Path), default=".",
                     help="The application's directory (default: the current directory)."),
        verbose_option(),
        click.Option(["--show-tokens"], is_flag=True,
                     help="Show tokens found in output with only their signature removed (default: whole token hidden)."),
        *reg.options,
    ]


def _snapshot_path(params: dict[str, Any], product: Product) -> Path | None:
    if params["no_snapshot"]:
        return None
    import time

    return params["snapshot"] or Path(time.strftime(f"{product.snapshot_prefix}-%Y%m%dT%H%M%SZ.md", time.gmtime()))


def _doctor(reg: Registry, params: dict[str, Any], product: Product) -> int:
    checks = reg.select(params["select"], params["ignore"])
    fmt, output, verbose = params["fmt"], params["output"], params["verbose"]
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    sink = Sink(fmt=fmt, output=output, snapshot=_snapshot_path(params, product), junit=params["junit"],
                github=os.environ.get("GITHUB_ACTIONS") == "true", step_summary=Path(summary_file) if summary_file else None)
    ctx = make_context(params)
    for warning in reg.warnings:
        click.echo(f"warning: {warning}", err=True)
    stream_text = fmt == "text" and output is None
    progress = Progress(ctx, [c.id for c in checks], verbose=verbose, stream=sys.stdout if fmt == "text" else sys.stderr)
    on_result = progress if (fmt == "text" or use_color(sys.stderr)) else None
    if on_result is not None:
        progress.status()

    from livekit_doctor.runner import run_blocking

    run = run_blocking(checks, ctx, on_result=on_result, timeout=params["timeout"])
    problems = {r.check_id for r in run.results if r.status.severity > 0}
    doc = RunDocument(
        results=run.results,
        started_at=run.started_at,
        duration=run.duration,
        fail_on=params["fail_on"],
        interrupted=run.interrupted,
        timed_out=run.timed_out,
        warnings=list(reg.warnings),
        explanations={c.id: c.why() for c in checks if c.id in problems},
        verbose=verbose,
        product=product,
    ).redacted(ctx.redactor)
    sink.report(doc, streamed=stream_text)
    sink.side_reports(doc)
    return EXIT_INTERRUPTED if run.interrupted else doc.exit_code


def build_cli(reg: Registry, product: Product = PRODUCT) -> click.Group:
    @click.group(
        name=product.prog,
        invoke_without_command=True,
        params=_run_options(reg, product),
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )
    @click.version_option(product.version, prog_name=product.prog)
    @click.pass_context
    def cli(click_ctx: click.Context, **params: Any) -> None:
        """Diagnose a LiveKit setup: SDK, credentials, server, tokens and media.

        With no command, runs every check and prints one line per check.
        """
        if click_ctx.invoked_subcommand is None:
            click_ctx.exit(_doctor(reg, params, product))

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
            raise click.UsageError(f"unknown check ID: {check_id} (see '{product.prog} list')")
        click.echo(chk.explain())

    @cli.command("report", params=[format_option(), output_option(), verbose_option()])
    @click.argument("file", type=click.File("r", encoding="utf-8"))
    def report(file: Any, fmt: str, output: Path | None, verbose: bool) -> None:
        """Re-render a saved run (a --format json file or a snapshot) in any format; '-' reads stdin."""
        sink = Sink(fmt=fmt, output=output)
        doc = load_document(file.read(), getattr(file, "name", "-"), product)
        doc.verbose = verbose
        sink.report(doc)

    for command in _plugin_commands(product):
        cli.add_command(command)
    return cli


def load_document(text: str, name: str, product: Product = PRODUCT) -> RunDocument:
    """A run saved as JSON, or the JSON block embedded in a Markdown snapshot."""
    import dataclasses
    import json

    from livekit_doctor.render.markdown import extract_run

    embedded = extract_run(text)
    try:
        data = json.loads(embedded if embedded is not None else text)
    except json.JSONDecodeError:
        raise DocumentError(f"{name} is neither a {product.name} JSON report nor a snapshot") from None
    try:
        return dataclasses.replace(RunDocument.from_dict(data), product=product)
    except DocumentError as exc:
        raise DocumentError(f"{name}: {exc}") from None


def _plugin_commands(product: Product) -> list[click.Command]:
    """Extra subcommands (scan, token ...) registered under the product's command group."""
    from importlib.metadata import entry_points

    commands = []
    for ep in entry_points(group=product.command_group):
        try:
            commands.append(ep.load())
        except Exception as exc:
            click.echo(f"warning: command {ep.name} failed to load: {type(exc).__name__}: {exc}", err=True)
    return commands


def main(argv: list[str] | None = None, product: Product = PRODUCT) -> None:
    """Entry point: usage errors are one line and exit 2; a crash of the doctor itself exits 3."""
    args = sys.argv[1:] if argv is None else argv
    try:
        reg = registry_mod.load(product)
        code = build_cli(reg, product).main(args=args, prog_name=product.prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        click.echo(f"{product.prog}: error: {exc.format_message()}", err=True)
        code = EXIT_USAGE
    except UsageError as exc:
        click.echo(f"{product.prog}: error: {exc}", err=True)
        code = EXIT_USAGE
    except click.exceptions.Abort:
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = EXIT_INTERRUPTED
    except Exception as exc:
        click.echo(f"{product.prog}: internal error: {type(exc).__name__}: {exc}", err=True)
        if "-v" in args or "--verbose" in args:
            click.echo(traceback.format_exc(), err=True)
        code = EXIT_INTERNAL
    sys.exit(code or 0)
