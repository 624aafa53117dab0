"""The diagnosis: root causes, their consequences, independent warnings, and a stable order."""

import json
import random

from livekit_doctor.check import check
from livekit_doctor.context import Context
from livekit_doctor.diagnosis import diagnose
from livekit_doctor.render import renderer
from livekit_doctor.render.document import RunDocument
from livekit_doctor.result import Result, Status
from livekit_doctor.runner import run_blocking


def r(cid, status, layer, caused_by=(), summary="s", fix=""):
    return Result(Status(status), summary, check_id=cid, title=f"T{cid}", layer=layer, caused_by=tuple(caused_by),
                  fix=fix)


def test_refused_port_is_the_root_and_the_token_refusal_its_consequence():
    results = [r("LK402", "fail", 4), r("LK205", "fail", 8, ["LK402"]), r("LK206", "skip", 9, ["LK402"]),
               r("LK305", "warn", 13), r("LK001", "pass", 0)]
    d = diagnose(results)
    assert [c.check_id for c in d.root_causes] == ["LK402"]
    assert (d.root_causes[0].consequences, d.root_causes[0].skipped) == (("LK205",), ("LK206",))
    assert d.independent == ("LK305",) and d.first == "LK402"
    assert d.consequence_of == {"LK205": "LK402", "LK206": "LK402"}


def test_a_warning_that_explains_a_failure_is_a_root_cause_ranked_by_what_it_explains():
    results = [r("LK004", "warn", 0), r("LK402", "fail", 4, ["LK004"]), r("LK501", "fail", 11)]
    d = diagnose(results)
    assert [c.check_id for c in d.root_causes] == ["LK004", "LK501"]
    assert d.root_causes[0].consequences == ("LK402",)


def test_chains_of_consequences_and_skips_end_at_the_first_problem():
    results = [r("LK201", "fail", 2), r("LK203", "skip", 2, ["LK201"]), r("LK204", "skip", 3, ["LK203"]),
               r("LK205", "skip", 8, ["LK204"]), r("LK502", "fail", 13, ["LK205"])]
    d = diagnose(results)
    assert [(c.check_id, c.consequences, c.skipped) for c in d.root_causes] == [
        ("LK201", ("LK502",), ("LK203", "LK204", "LK205"))]


def test_causes_that_did_not_fail_are_ignored_and_cycles_end():
    assert [c.check_id for c in diagnose([r("LK205", "fail", 8, ["LK402"]), r("LK402", "pass", 4)]).root_causes] == [
        "LK205"]
    d = diagnose([r("A001", "fail", 1, ["A002"]), r("A002", "fail", 2, ["A001"])])
    assert [(c.check_id, c.consequences) for c in d.root_causes] == [("A001", ("A002",))]


def test_order_is_the_same_whatever_order_results_arrive_in():
    results = [r("LK402", "fail", 4), r("LK205", "fail", 8, ["LK402"]), r("LK305", "warn", 13),
               r("LK301", "fail", 12), r("LK503", "skip", 14, ["LK502"]), r("LK502", "fail", 13, ["LK301"])]
    first = diagnose(results).to_dict()
    for _ in range(20):
        random.shuffle(results)
        assert diagnose(results).to_dict() == first
    assert first == {"root_causes": [{"check_id": "LK402", "consequences": ["LK205"], "skipped": []},
                                     {"check_id": "LK301", "consequences": ["LK502"], "skipped": ["LK503"]}],
                     "independent": ["LK305"]}


def _doc(results):
    return RunDocument(results=results, started_at=1_780_000_000.0, host="h", python="p")


def test_every_format_opens_with_or_carries_the_diagnosis():
    doc = _doc([r("LK402", "fail", 4, summary="connection refused", fix="Start the server."),
                r("LK205", "fail", 8, ["LK402"], summary="cannot reach"), r("LK305", "warn", 13, summary="never closed")])
    text = renderer("text")(doc)
    tail = text[text.index("Diagnosis"):]
    assert tail.splitlines()[:4] == [
        "Diagnosis (fix the first root cause first):",
        "  1. FAIL LK402 TLK402: connection refused",
        "     fix: Start the server.",
        "     explains: LK205 TLK205 (fail)"]
    assert "  also: WARN LK305 TLK305: never closed" in tail
    data = json.loads(renderer("json")(doc))
    assert data["diagnosis"]["root_causes"][0] == {"check_id": "LK402", "consequences": ["LK205"], "skipped": []}
    md = renderer("markdown")(doc)
    assert md.index("## Diagnosis") < md.index("## Summary")
    assert "_A consequence of LK402: fix that first._" in md
    junit = renderer("junit")(doc)
    assert 'name="consequence_of" value="LK402"' in junit and 'message="consequence of LK402: cannot reach"' in junit
    github = renderer("github")(doc).splitlines()
    assert github[0].startswith("::error title=LK402") and github[1].startswith("::notice title=LK205")


def test_a_saved_version_1_run_is_still_read_and_diagnosed():
    from livekit_doctor.cli import load_document

    data = json.loads(renderer("json")(_doc([r("LK402", "fail", 4)])))
    data["schema_version"] = 1
    for key in ("diagnosis",):
        data.pop(key)
    for result in data["results"]:
        result.pop("caused_by"), result.pop("layer")
    doc = load_document(json.dumps(data), "old.json")
    assert doc.diagnosis.first == "LK402"


def test_runner_records_the_failed_need_and_the_static_explanation():
    @check("TT001", "base", area="t")
    def base(ctx):
        return Result(Status.FAIL, "down")

    @check("TT002", "needs base", area="t", needs=("TT001",))
    def dependent(ctx):
        return Result(Status.PASS, "never runs")

    @check("TT003", "explained by base", area="t", explained_by=("TT001",))
    def sibling(ctx):
        return Result(Status.FAIL, "cannot reach")

    run = run_blocking([base, dependent, sibling], Context(options={}, env={}))
    by_id = {res.check_id: res for res in run.results}
    assert by_id["TT002"].caused_by == ("TT001",) and by_id["TT003"].caused_by == ("TT001",)
    d = diagnose(run.results)
    assert [(c.check_id, c.consequences, c.skipped) for c in d.root_causes] == [("TT001", ("TT003",), ("TT002",))]


def test_builtin_chain_places_network_before_server_auth_before_media():
    from livekit_doctor import PRODUCT
    from livekit_doctor.registry import load

    layer = {cid: c.layer for cid, c in load(PRODUCT).checks.items()}
    assert layer["LK001"] < layer["LK101"] < layer["LK201"] < layer["LK401"] < layer["LK402"] < layer["LK403"] \
        < layer["LK404"] < layer["LK205"] < layer["LK405"] < layer["LK501"] < layer["LK301"] < layer["LK502"]
