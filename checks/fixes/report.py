"""What `fix` prints (a unified diff per file, then the guidance) and the Markdown snapshot of what a
`--write` changed. The caller redacts the finished text."""

from __future__ import annotations

import difflib
import time

from livekit_doctor.checks.fixes.model import FixReport


def as_diff(fixes: FixReport) -> str:
    out = []
    for fix in fixes.files:
        out += difflib.unified_diff(fix.before.splitlines(keepends=True), fix.after.splitlines(keepends=True),
                                    f"a/{fix.path}", f"b/{fix.path}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in out)


def as_text(fixes: FixReport, written: bool) -> str:
    changes = fixes.changes
    lines = [f"fixes for the installed {fixes.sdk}:"] if changes else []
    lines += [f"  {c.path}:{c.line} {','.join(c.rules)} {c.title}" for c in sorted(changes, key=_order)]
    if fixes.guidance:
        lines.append("left to you (not safe to apply mechanically):")
        for g in fixes.guidance:
            lines += [f"  {g.path}:{g.line}:{g.col} {g.rule} {g.message}", f"    {g.advice}"]
    files = len(fixes.files)
    if not changes:
        lines.append("nothing to fix mechanically")
    elif written:
        backups = [f"{f.path} backed up to {f.backup}" for f in fixes.files if f.backup]
        lines.append(f"{len(changes)} fix{'es' if len(changes) != 1 else ''} written to {files} "
                     f"file{'s' if files != 1 else ''}" + (f" ({'; '.join(backups)})" if backups else ""))
    else:
        lines.append(f"{len(changes)} fix{'es' if len(changes) != 1 else ''} in {files} file{'s' if files != 1 else ''}"
                     " (run with --write to apply them)")
    return "\n".join(lines)


def _order(change):
    return change.path, change.line


def as_markdown(fixes: FixReport) -> str:
    """The snapshot of a `--write`: every change with its rule and its lines before and after."""
    out = ["# livekit-doctor fix", "",
           f"- project: `{fixes.root}`", f"- SDK judged against: {fixes.sdk}",
           f"- written: {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}", "",
           "## Changed", ""]
    for change in fixes.changes:
        out += [f"### {change.path}:{change.line} {', '.join(change.rules)}", "", change.title, "", "```diff",
                *(f"-{line}" for line in change.before), *(f"+{line}" for line in change.after), "```", ""]
    if not fixes.changes:
        out += ["Nothing.", ""]
    out += ["## Left to you", ""]
    out += [f"- `{g.path}:{g.line}:{g.col}` {g.rule} {g.message}: {g.advice}" for g in fixes.guidance] or ["Nothing."]
    return "\n".join(out) + "\n"
