"""Renderers: snapshot structure (parsed with markdown-it-py), JUnit, GitHub, JSON schema, round-trip."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from markdown_it import MarkdownIt

from livekit_doctor.redact import Redactor
from livekit_doctor.render import FORMATS, renderer
from livekit_doctor.render.document import DocumentError, RunDocument
from livekit_doctor.render.github import render as github
from livekit_doctor.render.markdown import extract_run, render as markdown
from livekit_doctor.result import Finding, Location, Result, Severity, Status

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "schema" / "run.schema.json").read_text())


def result(check_id: str, status: Status, summary: str, fix: str = "", locations=(), **kw) -> Result:
    """A stamped result; a note, warning or failure carries one finding of that severity (code `<ID>.<status>`)."""
    findings = () if status in (Status.PASS, Status.SKIP) else (
        Finding(f"{check_id}.{status.value}", Severity.FAIL if status is Status.ERROR else Severity(status.value),
                summary, fix=fix, locations=tuple(locations)),)
    return Result(status, summary, check_id=check_id, title=f"Title {check_id}", area=kw.pop("area", "credentials"),
                  plugin="livekit-doctor:test", docs=f"docs/checks/{check_id}.md", duration=0.0123, findings=findings,
                  **kw)


def sample() -> RunDocument:
    return RunDocument(
        results=[
            result("LK001", Status.PASS, "Linux, Python 3.11", area="environment", facts={"os": "Linux", "cpus": 2}),
            result("LK201", Status.PASS, "credentials from env", facts={"config": {
                "url": {"value": "ws://127.0.0.1:7880", "source": "env LIVEKIT_URL"},
                "api_secret": {"value": "[redacted]", "source": ".env"}}}),
            result("LK205", Status.FAIL, "server rejects the token: wrong secret | signature invalid",
                   details="HTTP 401\nline two with ``` backticks", fix="Use the secret of key APIabc."),
            result("LK301", Status.WARN, "hard-coded secret", locations=(Location("app/main.py", 42, 9, "literal"),)),
            result("LK405", Status.ERROR, "timed out after 5.0 s", traceback="Traceback ...", facts={"join_ms": 8.25}),
            result("LK501", Status.SKIP, "skipped: LK405 errored"),
        ],
        started_at=1_780_000_000.0, duration=1.25, warnings=["plugin x failed to load"],
        explanations={"LK205": "A rejected token means nobody can join.", "LK301": "Secrets leak.",
                      "LK405": "Clients cannot signal."},
        host="box", python="/usr/bin/python3",
    )


def test_markdown_snapshot_structure():
    doc = sample()
    tokens = MarkdownIt("commonmark").enable("table").parse(markdown(doc))
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings[0] == "LiveKit doctor snapshot"
    assert headings[1:6] == ["Diagnosis", "Summary", "Findings", "❌ fail LK205: Title LK205",
                             "💥 error LK405: Title LK405"]  # root causes first, then the independent warning
    assert headings[6:] == ["⚠️ warn LK301: Title LK301", "Environment", "Configuration", "Timings", "Run data"]
    tables = [i for i, t in enumerate(tokens) if t.type == "table_open"]
    summary_rows = _table_rows(tokens, tables[1])
    assert summary_rows[0] == ["status", "ID", "check", "summary", "duration"]
    assert [row[1] for row in summary_rows[1:]] == ["LK001", "LK201", "LK205", "LK301", "LK405", "LK501"]
    # a pipe in a summary stays inside its cell
    assert summary_rows[3][3] == "server rejects the token: wrong secret | signature invalid"
    config_rows = next(rows for rows in (_table_rows(tokens, i) for i in tables) if rows[0][0] == "setting")
    assert config_rows[1] == ["url", "ws://127.0.0.1:7880", "env LIVEKIT_URL", "LK201"]
    # the details fence survives the backticks inside it
    fences = [t for t in tokens if t.type == "fence"]
    assert fences[0].content.rstrip() == "HTTP 401\nline two with ``` backticks"
    # the run JSON is inside a <details> block and loads back to the same document
    assert any(t.type == "html_block" and t.content.startswith("<details>") for t in tokens)
    embedded = json.loads(fences[-1].content)
    assert embedded == doc.to_dict()


def _table_rows(tokens, start: int) -> list[list[str]]:
    rows, row = [], None
    for t in tokens[start:]:
        if t.type == "table_close":
            return rows
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content.replace("\\|", "|"))
        elif t.type == "tr_close":
            rows.append(row)


def test_markdown_why_fix_and_docs_for_problems():
    text = markdown(sample())
    section = text.split("### ❌ fail LK205")[1].split("###")[0]
    assert "**Why it matters:** A rejected token means nobody can join." in section
    assert "**Fix:** Use the secret of key APIabc." in section
    assert "`livekit-doctor explain LK205` (docs/checks/LK205.md)" in section


def test_markdown_without_environment_or_config_says_so():
    text = markdown(RunDocument(results=[result("LK205", Status.PASS, "ok")]))
    assert "_Not collected: no check of the `environment` area ran._" in text
    assert "_Not resolved: no check reported a configuration (`facts[\"config\"]`)._" in text


def test_snapshot_round_trip_is_lossless():
    doc = sample()
    loaded = RunDocument.from_dict(json.loads(extract_run(markdown(doc))))
    assert loaded.to_dict() == doc.to_dict()
    assert loaded.results == doc.results


@pytest.mark.parametrize("data,message", [
    ({"results": []}, "not a saved run"),
    ({"schema_version": 99, "results": []}, "schema_version 99 is not supported"),
    ({"schema_version": 1, "results": [{"status": "maybe"}]}, "malformed run document"),
])
def test_bad_documents_are_document_errors(data, message):
    with pytest.raises(DocumentError, match=message):
        RunDocument.from_dict(data)


@pytest.mark.parametrize("fail_on", ["fail", "warn"])
def test_junit_maps_statuses(fail_on):
    doc = sample()
    doc.fail_on = fail_on
    suite = ET.fromstring(renderer("junit")(doc)).find("testsuite")
    cases = {case.get("name").split()[0]: case for case in suite.findall("testcase")}
    assert cases["LK205"].find("failure").get("message") == "server rejects the token: wrong secret | signature invalid"
    assert cases["LK405"].find("error").get("message") == "timed out after 5.0 s"
    assert cases["LK501"].find("skipped") is not None
    assert cases["LK001"].find("*") is None
    if fail_on == "warn":
        assert cases["LK301"].find("failure").get("type") == "warn"
        assert suite.get("failures") == "2"
    else:
        assert cases["LK301"].find("failure") is None
        assert "hard-coded secret" in cases["LK301"].find("system-out").text
        assert suite.get("failures") == "1"
    assert (suite.get("tests"), suite.get("errors"), suite.get("skipped")) == ("6", "1", "1")


def test_github_annotations_escape_and_point_at_files():
    lines = github(sample()).splitlines()
    assert lines == [
        "::error title=LK205.fail Title LK205::server rejects the token: wrong secret | signature invalid%0Afix: Use the secret of key APIabc.",
        "::warning file=app/main.py,line=42,col=9,title=LK301.warn Title LK301::literal",
        "::error title=LK405.error Title LK405::timed out after 5.0 s",
    ]
    odd = result("X100", Status.FAIL, "50% done", locations=(Location("a,b:c.py", 1, 0, "x\ny"),))
    assert github(RunDocument(results=[odd])) == "::error file=a%2Cb%3Ac.py,line=1,title=X100.fail Title X100::x%0Ay\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_renders_every_status(fmt):
    assert renderer(fmt)(sample())


def test_json_matches_schema():
    jsonschema.validate(json.loads(renderer("json")(sample())), SCHEMA)
    jsonschema.validate(RunDocument(results=[]).to_dict(), SCHEMA)


def test_redacted_scrubs_every_field_before_rendering():
    secret = "s3cr3t-\"quoted\"-<xml>&-value"
    doc = RunDocument(results=[result("LK205", Status.FAIL, f"bad {secret}", details=secret, fix=secret,
                                      facts={"k": [secret, {"n": secret}]}, traceback=secret,
                                      locations=(Location(f"/x/{secret}", 1, 1, secret),))],
                      warnings=[secret], explanations={"LK205": secret})
    clean = doc.redacted(Redactor([secret]))
    for fmt in FORMATS:
        out = renderer(fmt)(clean)
        # escaped forms too: JSON escapes the quote, XML the angle brackets
        assert "s3cr3t" not in out, fmt
