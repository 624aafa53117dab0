"""The Markdown snapshot: everything support needs about one run, readable on GitHub.

Generic on purpose: the environment section shows the facts of checks in the `environment`
area, the configuration section any result's `facts["config"]` ({name: {value, source}}).
"""

from __future__ import annotations

import json
import re

from livekit_doctor.render.document import RunDocument
from livekit_doctor.diagnosis import findings_by_code
from livekit_doctor.result import Finding, Result, Status, json_safe

MARK = {Status.PASS: "✅ pass", Status.NOTE: "📝 note", Status.WARN: "⚠️ warn", Status.FAIL: "❌ fail", Status.SKIP: "⏭️ skip",
        Status.ERROR: "💥 error"}
RUN_JSON_SUMMARY = "The whole run as JSON (load it back with <code>{prog} report</code>)"


def cell(value: object) -> str:
    """A value made safe for one table cell: no pipes or newlines breaking the row."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", "").replace("\n", "<br>") or " "


def fenced(text: str, info: str = "") -> str:
    """A code fence longer than any backtick run inside, so the content cannot close it early."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{info}\n{text.rstrip()}\n{fence}"


def table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _finding(found: Finding) -> list[str]:
    lines = [f"- **{found.severity.value} `{found.code}`:** {found.message}"]
    lines += [f"  - `{loc.path}:{loc.line}:{loc.column}` {loc.message}".rstrip() for loc in found.locations]
    if found.evidence:
        lines += ["", *("  " + line for line in fenced("\n".join(found.evidence), "text").splitlines()), ""]
    if found.fix:
        lines.append(f"  - **Fix:** {' '.join(found.fix.split())}")
    if found.caused_by:
        lines.append("  - **Follows from:** " + ", ".join(f"`{c}`" for c in found.caused_by))
    return lines


def _problem_section(result: Result, why: str, prog: str, root: str | None) -> str:
    parts = [f"### {MARK[result.status]} {result.check_id}: {result.title}", ""]
    if root:
        parts += [f"_A consequence of `{root}`: fix that first._", ""]
    parts.append(f"**What was seen:** {result.summary}")
    if result.details:
        parts += ["", fenced(result.details, "text")]
    if result.findings:
        parts += ["", *(line for found in result.findings for line in _finding(found))]
    if why:
        parts += ["", f"**Why it matters:** {' '.join(why.split())}"]
    parts += ["", f"**Docs:** `{prog} explain {result.check_id}`" + (f" ({result.docs})" if result.docs else "")]
    return "\n".join(parts)


def _diagnosis(doc: RunDocument) -> str:
    """Root causes in the order to fix them, each with its fix and what it explains; then the rest."""
    diagnosis = doc.diagnosis
    if not diagnosis.root_causes and not diagnosis.independent:
        return "Nothing to fix: no check failed or warned."
    found = findings_by_code(doc.results)
    parts = []
    for n, cause in enumerate(diagnosis.root_causes, 1):
        result, root = found[cause.code]
        lines = [f"{n}. **{MARK[root.severity.status]} {result.check_id} {result.title}:** {root.message} "
                 f"(`{root.code}`)"]
        if root.fix:
            lines.append(f"   - **Fix:** {' '.join(root.fix.split())}")
        if cause.consequences:
            lines.append("   - **Explains:** " + "; ".join(f"`{c}` {found[c][0].title} ({found[c][1].severity.value})"
                                                         for c in cause.consequences))
        if cause.skipped:
            lines.append("   - **Skipped because of it:** " + ", ".join(cause.skipped))
        parts.append("\n".join(lines))
    if diagnosis.independent:
        parts.append("Independent warnings:\n\n" + "\n".join(
            f"- {MARK[found[c][1].severity.status]} {found[c][0].check_id} {found[c][0].title}: {found[c][1].message} "
            f"(`{c}`)" for c in diagnosis.independent))
    return "\n\n".join(parts)


def _problems_in_diagnosis_order(doc: RunDocument) -> list[Result]:
    """Results with a problem or a note: those of root causes first, then their consequences, then the rest."""
    diagnosis, found = doc.diagnosis, findings_by_code(doc.results)
    ordered = [code for cause in diagnosis.root_causes for code in (cause.code, *cause.consequences)]
    ids = [found[code][0].check_id for code in (*ordered, *diagnosis.independent)]
    ids += [r.check_id for r in doc.results if r.findings or r.status is Status.ERROR]
    by_id = {r.check_id: r for r in doc.results}
    return [by_id[cid] for cid in dict.fromkeys(ids)]


def _environment(doc: RunDocument) -> str:
    found = [r for r in doc.results if r.area == "environment"]
    if not found:
        return "_Not collected: no check of the `environment` area ran._"
    blocks = []
    for r in found:
        blocks.append(f"**{r.check_id} {r.title}:** {r.summary}")
        if r.facts:
            blocks.append(table(["fact", "value"], [[k, v] for k, v in r.facts.items()]))
    return "\n\n".join(blocks)


def _configuration(doc: RunDocument) -> str:
    rows = []
    for r in doc.results:
        config = r.facts.get("config") if isinstance(r.facts, dict) else None
        if isinstance(config, dict):
            for name, entry in config.items():
                entry = entry if isinstance(entry, dict) else {"value": entry}
                rows.append([name, entry.get("value") or "(not set)", entry.get("source") or "—", r.check_id])
    if not rows:
        return "_Not resolved: no check reported a configuration (`facts[\"config\"]`)._"
    return table(["setting", "value (redacted)", "source", "from"], rows)


def _timings(doc: RunDocument) -> str:
    rows = [[r.check_id, f"{r.duration * 1000:.0f} ms"] for r in sorted(doc.results, key=lambda r: -r.duration)]
    measured = [[r.check_id, name[:-3], f"{value:.1f} ms"] for r in doc.results for name, value in r.facts.items()
                if name.endswith("_ms") and isinstance(value, (int, float))]
    text = f"Whole run: {doc.duration:.2f} s (checks run concurrently).\n\n" + table(["check", "duration"], rows)
    if measured:
        text += "\n\n" + table(["check", "measure", "value"], measured)
    return text


def render(doc: RunDocument, *, include_run: bool = True) -> str:
    tail = " (interrupted)" if doc.interrupted else " (run timed out)" if doc.timed_out else ""
    sections = [
        f"# {doc.product.title} snapshot",
        f"**{doc.verdict}**{tail} (exit code {doc.exit_code} with `--fail-on {doc.fail_on}`)",
        table(["", ""], [["When", doc.started_at_text], ["Doctor", f"{doc.product.name} {doc.doctor_version}"],
                         ["Host", doc.host], ["Interpreter", doc.python], ["Duration", f"{doc.duration:.2f} s"]]),
    ]
    if doc.warnings:
        sections.append("\n".join(f"> **warning:** {w}" for w in doc.warnings))
    sections.insert(2, "## Diagnosis\n\n" + _diagnosis(doc))
    sections += ["## Summary", table(["status", "ID", "check", "summary", "duration"],
                                     [[MARK[r.status], r.check_id, r.title, r.summary, f"{r.duration * 1000:.0f} ms"]
                                      for r in doc.results])]
    sections.append("## Findings")
    sections += [_problem_section(r, doc.explanations.get(r.check_id, ""), doc.product.prog,
                                  doc.diagnosis.root_of(r))
                 for r in _problems_in_diagnosis_order(doc)] or ["None."]
    sections += ["## Environment", _environment(doc), "## Configuration", _configuration(doc),
                 "## Timings", _timings(doc)]
    if include_run:
        run_json = json.dumps(json_safe(doc.to_dict()), indent=2)
        summary = RUN_JSON_SUMMARY.format(prog=doc.product.prog)
        sections += ["## Run data", f"<details>\n<summary>{summary}</summary>\n\n{fenced(run_json, 'json')}\n\n</details>"]
    return "\n\n".join(sections) + "\n"


_RUN_BLOCK = re.compile(r"<summary>" + re.escape(RUN_JSON_SUMMARY).replace(re.escape("{prog}"), r"[^<]+") + r"</summary>\s*(?P<fence>`{3,})json\n(?P<body>.*?)\n(?P=fence)",
                        re.DOTALL)


def extract_run(text: str) -> str | None:
    """The run JSON embedded in a snapshot, or None when the text is not a snapshot."""
    match = _RUN_BLOCK.search(text)
    return match.group("body") if match else None
