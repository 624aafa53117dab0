"""The `livekit-doctor` command line: a thin layer over registry, runner and renderers."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Any

import click

from livekit_doctor import __version__, registry as registry_mod
from livekit_doctor.context import Context
from livekit_doctor.redact import Redactor
from livekit_doctor.output import OutputError, check_writable, write_atomic
from livekit_doctor.registry import Registry, SelectionError
from livekit_doctor.render import FORMATS, renderer
from livekit_doctor.render.document import DocumentError, RunDocument
from livekit_doctor.result import Result
from livekit_doctor.summary import EXIT_INTERNAL, EXIT_INTERRUPTED, EXIT_USAGE

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
        from livekit_doctor.render.text import result_block

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
        click.Option(["--snapshot"], type=click.Path(dir_okay=False, path_type=Path),
                     help="Where to write the Markdown snapshot (default: livekit-doctor-snapshot-<UTC time>.md)."),
        click.Option(["--no-snapshot"], is_flag=True, help="Do not write the Markdown snapshot."),
        click.Option(["--junit"], type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
                     help="Also write JUnit XML here (one testcase per check)."),
        click.Option(["--project"], type=click.Path(file_okay=False, path_type=Path), default=".",
                     help="The application's directory (default: the current directory)."),
        click.Option(["-v", "--verbose"], is_flag=True, help="Show details, facts and tracebacks."),
        click.Option(["--show-tokens"], is_flag=True,
                     help="Show tokens found in output with only their signature removed (default: whole token hidden)."),
        *reg.options,
    ]


def _make_context(params: dict[str, Any]) -> Context:
    project = Path(params.get("project") or ".")
    if not project.is_dir():
        raise click.BadParameter(f"project directory {project} does not exist", param_hint="--project")
    return Context(project_dir=project.resolve(), options=params,
                   redactor=Redactor(keep_tokens=bool(params.get("show_tokens"))))


def _snapshot_path(params: dict[str, Any]) -> Path | None:
    if params["no_snapshot"]:
        return None
    import time

    return params["snapshot"] or Path(time.strftime("livekit-doctor-snapshot-%Y%m%dT%H%M%SZ.md", time.gmtime()))


def _doctor(reg: Registry, params: dict[str, Any]) -> int:
    checks = reg.select(params["select"], params["ignore"])
    output: Path | None = params["output"]
    snapshot, junit = _snapshot_path(params), params["junit"]
    for path in (output, snapshot, junit):  # fail before any check runs, not after a long run
        if path is not None:
            check_writable(path)
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
    ).redacted(ctx.redactor)
    if stream_text:
        from livekit_doctor.render.text import footer

        click.echo(ctx.redactor.redact(footer(doc)))
    else:
        text = ctx.redactor.redact(renderer(fmt)(doc))
        if output is not None:
            write_atomic(output, text)
            click.echo(f"{doc.verdict}; {fmt} report written to {output}", err=fmt != "text")
        else:
            click.echo(text, nl=False)
    write_side_reports(doc, ctx.redactor.redact, snapshot=snapshot, junit=junit)
    return EXIT_INTERRUPTED if run.interrupted else doc.exit_code


def write_side_reports(doc: RunDocument, redact: Any, *, snapshot: Path | None, junit: Path | None) -> None:
    """The snapshot, JUnit file and GitHub annotations/step summary that accompany every run."""
    if junit is not None:
        write_atomic(junit, redact(renderer("junit")(doc)))
        click.echo(f"JUnit report written to {junit}", err=True)
    if os.environ.get("GITHUB_ACTIONS") == "true":
        from livekit_doctor.render import github, markdown

        click.echo(redact(github.render(doc)), err=True, nl=False)
        summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary_file:
            with open(summary_file, "a", encoding="utf-8") as fh:
                fh.write(redact(markdown.render(doc, include_run=False)) + "\n")
    if snapshot is not None:
        write_atomic(snapshot, redact(renderer("markdown")(doc)))
        click.echo(f"snapshot written to {snapshot}", err=True)


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

    @cli.command("report")
    @click.argument("file", type=click.File("r", encoding="utf-8"))
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True)
    @click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), help="Write it here.")
    @click.option("-v", "--verbose", is_flag=True, help="Show details, facts and tracebacks (text format).")
    def report(file: Any, fmt: str, output: Path | None, verbose: bool) -> None:
        """Re-render a saved run (a --format json file or a snapshot) in any format; '-' reads stdin."""
        doc = load_document(file.read(), getattr(file, "name", "-"))
        doc.verbose = verbose
        text = renderer(fmt)(doc)
        if output is not None:
            write_atomic(output, text)
            click.echo(f"{doc.verdict}; {fmt} report written to {output}", err=True)
        else:
            click.echo(text, nl=False)

    for command in _plugin_commands():
        cli.add_command(command)
    return cli


def load_document(text: str, name: str) -> RunDocument:
    """A run saved as JSON, or the JSON block embedded in a Markdown snapshot."""
    import json

    from livekit_doctor.render.markdown import extract_run

    embedded = extract_run(text)
    try:
        data = json.loads(embedded if embedded is not None else text)
    except json.JSONDecodeError:
        raise DocumentError(f"{name} is neither a livekit-doctor JSON report nor a snapshot") from None
    try:
        return RunDocument.from_dict(data)
    except DocumentError as exc:
        raise DocumentError(f"{name}: {exc}") from None


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
    except (SelectionError, OutputError, DocumentError) as exc:
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
