"""Finding codes: every code a built-in check reports is declared with a meaning, the links between codes
are validated at load, and docs/diagnosis.md's table is the one the declarations give."""

from __future__ import annotations

import ast
from importlib import import_module
from pathlib import Path

import pytest

from livekit_doctor import PRODUCT
from livekit_doctor.check import check, code
from livekit_doctor.checks.builtin import AREAS
from livekit_doctor.links import link_table, with_table
from livekit_doctor.plugin import Plugin
from livekit_doctor.registry import GraphError, Registry, load, plugin_from_object

ROOT = Path(__file__).resolve().parents[2]
MAKERS = ("failed", "warned", "noted")


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            yield node


def reported_codes(path: Path) -> tuple[set[str], list[str]]:
    """Literal codes a module reports, and the lines of failed/warned/noted calls without a code."""
    literal, bare = set(), []
    for call in _calls(ast.parse(path.read_text(encoding="utf-8"))):
        if call.func.id in MAKERS:
            given = next((kw.value for kw in call.keywords if kw.arg == "code"), None)
            if given is None and not any(kw.arg is None for kw in call.keywords):
                bare.append(f"{path.name}:{call.lineno}")
            elif isinstance(given, ast.Constant):
                literal.add(given.value)
        elif call.func.id == "finding" and call.args and isinstance(call.args[0], ast.Constant):
            literal.add(call.args[0].value)
    return literal, bare


@pytest.mark.parametrize("area", AREAS)
def test_every_code_a_check_module_reports_is_declared(area):
    module = import_module(f"livekit_doctor.checks.{area}")
    declared = {c.name for chk in module.CHECKS for c in chk.codes}
    literal, bare = reported_codes(ROOT / "checks" / f"{area}.py")
    assert bare == [], "a built-in finding without a code of its own"
    assert literal - declared == set()
    assert all(c.meaning for chk in module.CHECKS for c in chk.codes)


def test_the_registry_refuses_a_link_to_a_code_nobody_declares():
    @check("ZZ001", "a", area="t", codes=[code("x", "x", explained_by=("ZZ002.nope",))])
    def a(ctx):
        raise AssertionError

    @check("ZZ002", "b", area="t", codes=[code("y", "y")])
    def b(ctx):
        raise AssertionError

    reg = Registry()
    reg.add(plugin_from_object("builtin-test", Plugin("builtin-test", checks=(a, b)), builtin=True))
    with pytest.raises(GraphError, match="ZZ001.x is explained by ZZ002.nope, a finding code no plugin declares"):
        reg.validate()
    third = Registry()
    third.add(plugin_from_object("other", Plugin("other", checks=(a, b))))
    third.validate()  # a third-party plugin with a bad link is left out, with a warning naming it
    assert third.checks == {} and "plugin other: ZZ001.x is explained by ZZ002.nope" in third.warnings[0]


def test_a_check_without_a_place_on_its_plugins_chain_is_refused():
    @check("ZZ101", "a", area="t")
    def a(ctx):
        raise AssertionError

    with pytest.raises(GraphError, match="check ZZ101 has no place on the plugin's causal chain"):
        Registry().add(plugin_from_object("b", Plugin("b", checks=(a,), chain=("ZZ2",)), builtin=True))


def test_docs_diagnosis_lists_every_link_as_declared():
    page = (ROOT / "docs" / "diagnosis.md").read_text(encoding="utf-8")
    current = with_table(page, link_table(load(PRODUCT).checks.values()))
    assert page == current, "docs/diagnosis.md is stale: run `.venv/bin/python -m livekit_doctor.links`"


def test_explain_shows_each_code_with_what_explains_it(run_doctor):
    proc = run_doctor("explain", "LK205")
    assert proc.returncode == 0
    assert "- `LK205.wrong-secret`:" in proc.stdout
    assert "- `LK205.not-yet-valid`:" in proc.stdout and "explained by: `LK206.clock-behind`" in proc.stdout
    assert "explains: `LK405.wrong-secret`" in proc.stdout


def test_every_check_page_lists_its_declared_codes_in_order():
    """Each built-in check's page docs/checks/<ID>.md has a "## Finding codes" table of exactly the codes
    the check declares, in declaration order; a check that declares none may have no such section."""
    import re

    from livekit_doctor.check import markdown_section

    registry = load(PRODUCT)
    builtin = {p.name for p in registry.plugins if p.builtin}
    wrong = {}
    for chk in registry.checks.values():
        if chk.plugin not in builtin:
            continue
        page = ROOT / "docs" / "checks" / f"{chk.id}.md"
        section = markdown_section(page.read_text(encoding="utf-8"), "Finding codes") if page.is_file() else ""
        listed = re.findall(r"^\| `(LK\d{3}\.[a-z-]+)` \|", section, re.M)
        declared = [f"{chk.id}.{c.name}" for c in chk.codes]
        if listed != declared:
            wrong[chk.id] = {"page": listed, "declared": declared}
    assert builtin and registry.checks
    assert wrong == {}, "a page's Finding codes table is not its check's declared codes, in order"
