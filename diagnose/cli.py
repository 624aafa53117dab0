"""The command line: a thin layer over registry, runner, sink and renderers, for the product it is given."""

from __future__ import annotations

import contextlib
import os
import sys
import traceback
from pathlib import Path
from typing import Any, Iterator

import click

from livekit_doctor import PRODUCT, registry as registry_mod
from livekit_doctor.context import Context, make_context
from livekit_doctor.errors import UsageError
from livekit_doctor.output import Sink
from livekit_doctor.params import Seconds
from livekit_doctor.product import Product
from livekit_doctor.registry import Registry
from livekit_doctor.render import FORMATS
from livekit_doctor.render.document import DocumentError, RunDocument, redact_result
from livekit_doctor.result import Result
from livekit_doctor.summary import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_PROBLEMS, EXIT_USAGE


REPORT_LIMIT = 50_000_000  # bytes of a saved run `report` reads


def use_color(stream: Any) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


class Progress:
    """Prints each result as it lands; on a terminal (not in CI), one status line under them shows what
    is still running and what long work says about itself (`ctx.progress`)."""

    def __init__(self, ctx: Context, total: list[str], *, verbose: bool, stream: Any) -> None:
        from livekit_doctor.status import StatusLine

        self.ctx, self.pending, self.verbose, self.stream = ctx, list(total), verbose, stream
        self.color = use_color(stream)
        self.line = StatusLine(stream)
        self.note = ""
        ctx.progress = self.progress

    def __call__(self, result: Result) -> None:
        from livekit_doctor.render.text import result_block

        if result.check_id in self.pending:
            self.pending.remove(result.check_id)
        if not self.pending:
            self.line.clear()
        self.line.print(result_block(redact_result(result, self.ctx.redactor), verbose=self.verbose, color=self.color))
        self.status(force=True)

    def progress(self, text: str) -> None:
        self.note = text
        self.status()

    def status(self, force: bool = False) -> None:
        if self.pending:
            shown = " ".join(self.pending[:6]) + (" …" if len(self.pending) > 6 else "")
            note = f" · {self.note}" if self.note else ""
            self.line.show(f"running {len(self.pending)}: {shown}{note}", force=force, dim=self.color)


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
        click.Option(["--timeout"], type=Seconds(), help="Budget for the whole run, in seconds."),
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
        no_cache_option(product),
        *reg.options,
    ]


def no_cache_option(product: Product = PRODUCT) -> click.Option:
    return click.Option(["--no-cache"], is_flag=True,
                        help=f"Neither use nor update what earlier runs kept in ${product.cache_env or 'the cache'} "
                             f"(default ~/.cache/{product.name}; see '{product.prog} cache').")


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
    ctx = make_context(params, product=product)
    for warning in reg.warnings:
        click.echo(f"warning: {warning}", err=True)
    stream_text = fmt == "text" and output is None
    progress = Progress(ctx, [c.id for c in checks], verbose=verbose, stream=sys.stdout if fmt == "text" else sys.stderr)
    on_result = progress if (fmt == "text" or use_color(sys.stderr)) else None
    if on_result is not None:
        progress.status(force=True)

    from livekit_doctor.runner import run_blocking

    run = run_blocking(checks, ctx, on_result=on_result, timeout=params["timeout"])
    problems = {r.check_id for r in run.results if r.findings}
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
    with _ctrl_c_deferred():  # the verdict and the snapshot survive another Ctrl-C
        sink.report(doc, streamed=stream_text)
        sink.side_reports(doc)
    return EXIT_INTERRUPTED if run.interrupted else doc.exit_code


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Ctrl-C pressed while the reports are written takes effect after them (they take milliseconds)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pressed: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pressed.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pressed:
        raise KeyboardInterrupt


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
        """Show the documentation page of a check, with its finding codes and their causal links."""
        from livekit_doctor.links import links_section

        chk = reg.checks.get(check_id.split(".", 1)[0].upper())  # a finding code (LK205.wrong-secret) shows its check
        if chk is None:
            raise click.UsageError(f"unknown check ID: {check_id} (see '{product.prog} list')")
        click.echo(chk.explain().rstrip() + "\n\n" + links_section(chk, reg.checks.values()))

    @cli.command("report", params=[format_option(), output_option(), verbose_option()])
    @click.argument("file", type=click.File("rb"))
    def report(file: Any, fmt: str, output: Path | None, verbose: bool) -> None:
        """Re-render a saved run (a --format json file or a snapshot) in any format; '-' reads stdin."""
        sink = Sink(fmt=fmt, output=output)
        name = getattr(file, "name", "-")
        try:
            text = file.read(REPORT_LIMIT + 1).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"{name} is not UTF-8 text (byte {exc.start}): not a saved run") from None
        if len(text) > REPORT_LIMIT:
            raise DocumentError(f"{name} is larger than {REPORT_LIMIT // 1_000_000} MB: not a saved run")
        doc = load_document(text, name, product)
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
    except (json.JSONDecodeError, RecursionError):
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
    sys.exit(run(sys.argv[1:] if argv is None else argv, product))


def run(args: list[str], product: Product = PRODUCT) -> int:
    """The command line's exit code for `args`, every outcome reported on stdout/stderr (tests call it in-process)."""
    for stream in (sys.stdout, sys.stderr):  # a file name that is not UTF-8 is shown escaped, never a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    if any("\x00" in arg for arg in args):  # only possible in-process: a real command line cannot hold one
        click.echo(f"{product.prog}: error: an argument holds a NUL byte", err=True)
        return EXIT_USAGE
    try:
        reg = registry_mod.load(product)
        code = build_cli(reg, product).main(args=args, prog_name=product.prog, standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        click.echo(f"{product.prog}: error: {_one_line(exc.format_message())}", err=True)
        code = EXIT_USAGE
    except UsageError as exc:
        click.echo(f"{product.prog}: error: {_one_line(str(exc))}", err=True)
        code = EXIT_USAGE
    except click.exceptions.Abort:
        code = EXIT_INTERRUPTED
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        code = EXIT_INTERRUPTED
    except BrokenPipeError:  # the reader went away (`| head`): nothing more to say to it
        code = EXIT_PROBLEMS
    except Exception as exc:
        from livekit_doctor.redact import Redactor

        click.echo(Redactor().redact(f"{product.prog}: internal error: {type(exc).__name__}: {exc}"), err=True)
        if "-v" in args or "--verbose" in args:
            click.echo(Redactor().redact(traceback.format_exc()), err=True)
        code = EXIT_INTERNAL
    return code or 0


def _one_line(message: str) -> str:
    """A message that quotes the user's input stays one line: control characters shown escaped."""
    return "".join(ch if ch.isprintable() or ch == " " else repr(ch)[1:-1] for ch in message.strip())
