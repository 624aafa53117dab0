"""The diagnosis by finding: root causes, their consequences, independent warnings, and a stable order."""

import json
import random

from hypothesis import given, settings, strategies as st

from livekit_doctor.check import check, code
from livekit_doctor.context import Context
from livekit_doctor.diagnosis import diagnose
from livekit_doctor.render import renderer
from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import Finding, Result, Severity, Status
from livekit_doctor.runner import run_blocking


def f(full, severity="fail", caused_by=(), message="m", fix=""):
    return Finding(full, Severity(severity), message, fix=fix, caused_by=tuple(caused_by))


def r(cid, layer, *findings, status=None, caused_by=(), summary="s"):
    worst = max((x.severity for x in findings), key=["note", "warn", "fail"].index, default=None)
    status = status or (worst.value if worst else "pass")
    return Result(Status(status), summary, check_id=cid, title=f"T{cid}", layer=layer, findings=tuple(findings),
                  caused_by=tuple(caused_by))


def test_refused_port_is_the_root_and_the_token_refusal_its_consequence():
    results = [r("LK402", 4, f("LK402.refused")), r("LK205", 8, f("LK205.unreachable", caused_by=["LK402.refused"])),
               r("LK206", 9, status="skip", caused_by=["LK402"]), r("LK305", 13, f("LK305.never-closed", "warn")),
               r("LK001", 0)]
    d = diagnose(results)
    assert [(c.code, c.check_id) for c in d.root_causes] == [("LK402.refused", "LK402")]
    assert (d.root_causes[0].consequences, d.root_causes[0].skipped) == (("LK205.unreachable",), ("LK206",))
    assert d.independent == ("LK305.never-closed",) and d.first == "LK402.refused"


def test_a_note_is_never_a_root_cause_even_when_a_link_names_it():
    results = [r("LK203", 2, f("LK203.env-readable", "note")),
               r("LK205", 8, f("LK205.wrong-secret", caused_by=["LK203.env-readable"]))]
    d = diagnose(results)
    assert [c.code for c in d.root_causes] == ["LK205.wrong-secret"] and d.independent == ()


def test_one_check_with_a_cause_and_a_consequence_of_another_check():
    """Findings, not checks, are linked: the check's other finding stays where it is."""
    results = [r("LK203", 2, f("LK203.secret-damaged"), f("LK203.short-secret", "note")),
               r("LK205", 8, f("LK205.wrong-secret", caused_by=["LK203.secret-damaged"])),
               r("LK702", 12, f("LK702.tcp-closed", "warn")), r("LK501", 15, f("LK501.media-blocked"))]
    d = diagnose(results)
    assert [(c.code, c.consequences) for c in d.root_causes] == [
        ("LK203.secret-damaged", ("LK205.wrong-secret",)), ("LK501.media-blocked", ())]
    assert d.independent == ("LK702.tcp-closed",)


def test_chains_of_consequences_and_skips_end_at_the_first_problem():
    results = [r("LK201", 2, f("LK201.missing")), r("LK203", 2, status="skip", caused_by=["LK201"]),
               r("LK204", 3, status="skip", caused_by=["LK203"]), r("LK205", 8, status="skip", caused_by=["LK204"]),
               r("LK502", 13, f("LK502.http-error", caused_by=["LK201.missing"]))]
    d = diagnose(results)
    assert [(c.code, c.consequences, c.skipped) for c in d.root_causes] == [
        ("LK201.missing", ("LK502.http-error",), ("LK203", "LK204", "LK205"))]


def test_causes_that_did_not_occur_are_ignored_and_cycles_end():
    d = diagnose([r("LK205", 8, f("LK205.unreachable", caused_by=["LK402.refused"])), r("LK402", 4)])
    assert [c.code for c in d.root_causes] == ["LK205.unreachable"]
    d = diagnose([r("A001", 1, f("A001.x", caused_by=["A002.y"])), r("A002", 2, f("A002.y", caused_by=["A001.x"]))])
    assert [(c.code, c.consequences) for c in d.root_causes] == [("A001.x", ("A002.y",))]


CODES = [f"T{n:03d}.c{k}" for n in range(1, 7) for k in range(2)]


@st.composite
def runs(draw):
    """Results of six checks, each with findings of random severity and random links among them."""
    results = []
    for n in range(1, 7):
        findings = []
        for k in range(draw(st.integers(0, 2))):
            links = draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True))
            findings.append(f(f"T{n:03d}.c{k}", draw(st.sampled_from(["note", "warn", "fail"])), links))
        results.append(r(f"T{n:03d}", draw(st.integers(0, 5)), *findings))
    return results


@settings(max_examples=300, deadline=None)
@given(runs(), st.randoms())
def test_property_unlinked_findings_explain_nothing_and_order_does_not_matter(results, rnd):
    d = diagnose(results)
    shuffled = list(results)
    rnd.shuffle(shuffled)
    assert diagnose(shuffled) == d
    occurred = {x.code: x for res in results for x in res.findings}
    for cause in d.root_causes:
        assert occurred[cause.code].is_problem  # a note is never a root
        for consequence in cause.consequences:
            # a consequence is reached from its root only through links that name findings that occurred
            assert occurred[consequence].is_problem
            assert any(c in occurred and occurred[c].is_problem for c in occurred[consequence].caused_by)
    linked = {c for x in occurred.values() for c in x.caused_by}
    for code_, x in occurred.items():  # a problem nothing links to is its own root (or independent)
        if x.is_problem and not x.caused_by:
            assert code_ not in d.consequence_of
        if not x.is_problem:
            assert code_ not in d.consequence_of and all(c.code != code_ for c in d.root_causes)
    assert linked is not None


def test_order_is_the_same_whatever_order_results_arrive_in():
    results = [r("LK402", 4, f("LK402.refused")), r("LK205", 8, f("LK205.unreachable", caused_by=["LK402.refused"])),
               r("LK305", 13, f("LK305.never-closed", "warn")), r("LK301", 12, f("LK301.unknown-name")),
               r("LK503", 14, status="skip", caused_by=["LK502"]),
               r("LK502", 13, f("LK502.http-error", caused_by=["LK301.unknown-name"]))]
    first = diagnose(results).to_dict()
    for _ in range(20):
        random.shuffle(results)
        assert diagnose(results).to_dict() == first
    assert first == {"root_causes": [
        {"code": "LK402.refused", "check_id": "LK402", "consequences": ["LK205.unreachable"], "skipped": []},
        {"code": "LK301.unknown-name", "check_id": "LK301", "consequences": ["LK502.http-error"],
         "skipped": ["LK503"]}], "independent": ["LK305.never-closed"]}


def _doc(results):
    return RunDocument(results=results, started_at=1_780_000_000.0, host="h", python="p")


def test_every_format_opens_with_or_carries_the_diagnosis():
    doc = _doc([r("LK402", 4, f("LK402.refused", message="connection refused", fix="Start the server."),
                  summary="connection refused"),
                r("LK205", 8, f("LK205.unreachable", caused_by=["LK402.refused"], message="cannot reach"),
                  summary="cannot reach"),
                r("LK305", 13, f("LK305.never-closed", "warn", message="never closed"), summary="never closed")])
    text = renderer("text")(doc)
    tail = text[text.index("Diagnosis"):]
    assert tail.splitlines()[:5] == [
        "Diagnosis (fix the first root cause first):",
        "  1. FAIL LK402 TLK402: connection refused",
        "     [LK402.refused]",
        "     fix: Start the server.",
        "     explains: LK205.unreachable (fail)"]
    assert "  also: WARN LK305 TLK305: never closed [LK305.never-closed]" in tail
    data = json.loads(renderer("json")(doc))
    assert data["diagnosis"]["root_causes"][0] == {
        "code": "LK402.refused", "check_id": "LK402", "consequences": ["LK205.unreachable"], "skipped": [],
        "severity": "fail", "message": "connection refused", "fix": "Start the server."}
    assert data["results"][0]["findings"][0]["code"] == "LK402.refused"
    md = renderer("markdown")(doc)
    assert md.index("## Diagnosis") < md.index("## Summary")
    assert "_A consequence of `LK402.refused`: fix that first._" in md
    junit = renderer("junit")(doc)
    assert 'name="consequence_of" value="LK402.refused"' in junit
    assert 'message="consequence of LK402.refused: cannot reach"' in junit
    github = renderer("github")(doc).splitlines()
    assert github[0].startswith("::error title=LK402.refused") and github[1].startswith("::notice title=LK205")


def test_a_saved_version_1_or_2_run_is_still_read_and_diagnosed():
    from livekit_doctor.cli import load_document

    data = json.loads(renderer("json")(_doc([r("LK402", 4, f("LK402.refused", fix="Start it."))])))
    data["schema_version"] = 2
    data.pop("diagnosis")
    for result in data["results"]:
        result["fix"] = result["findings"][0]["fix"]
        result["locations"] = []
        result.pop("findings")
    doc = load_document(json.dumps(data), "old.json")
    assert doc.diagnosis.first == "LK402.fail" and doc.results[0].fix == "Start it."


def test_runner_links_declared_codes_only_when_the_cause_occurred_and_is_a_problem():
    @check("TT001", "base", area="t", codes=[code("down"), code("tidy")])
    def base(ctx):
        return Result(Status.FAIL, "down", findings=(Finding("down", Severity.FAIL, "down"),
                                                     Finding("tidy", Severity.NOTE, "a note")))

    @check("TT002", "needs base", area="t", needs=("TT001",))
    def dependent(ctx):
        return Result(Status.PASS, "never runs")

    @check("TT003", "explained by base", area="t", codes=[code("cannot-reach", explained_by=("TT001.down",)),
                                                          code("other", explained_by=("TT001.tidy",))])
    def sibling(ctx):
        return Result(Status.FAIL, "cannot reach", findings=(Finding("cannot-reach", Severity.FAIL, "cannot reach"),
                                                             Finding("other", Severity.WARN, "other")))

    run = run_blocking([base, dependent, sibling], Context(options={}, env={}))
    by_id = {res.check_id: res for res in run.results}
    assert by_id["TT002"].caused_by == ("TT001",)
    assert [(x.code, x.caused_by) for x in by_id["TT003"].findings] == [
        ("TT003.cannot-reach", ("TT001.down",)), ("TT003.other", ())]  # a note explains nothing
    d = diagnose(run.results)
    assert [(c.code, c.consequences, c.skipped) for c in d.root_causes] == [
        ("TT001.down", ("TT003.cannot-reach",), ("TT002",))]
    assert d.independent == ("TT003.other",)


def test_builtin_chain_places_network_before_server_auth_before_media():
    from livekit_doctor import PRODUCT
    from livekit_doctor.registry import load

    layer = {cid: c.layer for cid, c in load(PRODUCT).checks.items()}
    assert layer["LK001"] < layer["LK101"] < layer["LK201"] < layer["LK401"] < layer["LK402"] < layer["LK403"] \
        < layer["LK404"] < layer["LK205"] < layer["LK405"] < layer["LK501"] < layer["LK301"] < layer["LK502"]
