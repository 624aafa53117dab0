import types

import pytest

from livekit_doctor.check import Check, check
from livekit_doctor import PRODUCT
from livekit_doctor.registry import GraphError, Registry, SelectionError, load, plugin_from_object
from livekit_doctor.result import passed


def _check(cid, needs=(), after=(), area="a"):
    return Check(id=cid, title=cid, area=area, func=lambda ctx: passed("ok"), needs=tuple(needs), after=tuple(after))


def make_registry(*checks):
    reg = Registry()
    reg.add(plugin_from_object("test", list(checks)))
    return reg


def test_select_by_prefix_and_ignore():
    reg = make_registry(_check("LK201"), _check("LK202"), _check("LK203"), _check("LK401"))
    assert [c.id for c in reg.select(["LK2"], ["LK203"])] == ["LK201", "LK202"]


def test_select_accepts_commas_and_lowercase():
    reg = make_registry(_check("LK201"), _check("LK401"), _check("LK501"))
    assert [c.id for c in reg.select(["lk201,LK5"])] == ["LK201", "LK501"]


def test_selected_check_pulls_in_its_needs_unless_ignored():
    reg = make_registry(_check("LK201"), _check("LK205", needs=["LK201"]))
    assert [c.id for c in reg.select(["LK205"])] == ["LK201", "LK205"]
    assert [c.id for c in reg.select(["LK205"], ["LK201"])] == ["LK205"]


def test_unknown_prefix_is_a_selection_error():
    reg = make_registry(_check("LK201"))
    with pytest.raises(SelectionError, match="unknown check ID or prefix: LK9"):
        reg.select(["LK9"])


def test_duplicate_id_keeps_first_and_warns():
    reg = Registry()
    reg.add(plugin_from_object("first", [_check("LK001")]))
    reg.add(plugin_from_object("second", [_check("LK001")]))
    assert reg.checks["LK001"].plugin == "first"
    assert reg.warnings == ["plugin second: check LK001 is already provided by first; the first one is kept"]


def test_bad_id_is_ignored_with_warning():
    reg = make_registry(_check("lk-1"))
    assert reg.checks == {}
    assert "not of the form" in reg.warnings[0]


def test_module_plugin_provides_checks_options_and_docs(tmp_path):
    @check("ZZ001", "z", area="z")
    def z(ctx):
        return passed("ok")

    module = types.ModuleType("fake_plugin")
    module.CHECKS = [z]
    module.OPTIONS = ["opt"]
    module.DOCS_DIR = tmp_path
    plugin = plugin_from_object("fake", module)
    assert plugin.checks[0].plugin == "fake"
    assert plugin.checks[0].docs_page == tmp_path / "ZZ001.md"
    assert plugin.options == ("opt",)


def test_builtin_checks_are_found_through_entry_points():
    reg = load(PRODUCT)
    assert {"LK001", "LK002", "LK003", "LK004"} <= set(reg.checks)
    assert reg.checks["LK001"].plugin == "livekit-doctor:builtin"


def test_every_registered_check_has_a_docs_page():
    reg = load(PRODUCT)
    missing = [cid for cid, c in reg.checks.items() if c.plugin.startswith("livekit-doctor:") and not c.docs_page.is_file()]
    assert missing == []
    assert {c.docs_ref for c in reg.checks.values() if c.id == "LK101"} == {"docs/checks/LK101.md"}


def _validated(*plugins):
    reg = Registry()
    for plugin in plugins:
        reg.add(plugin)
    reg.validate()
    return reg


def test_builtin_needs_cycle_is_a_graph_error_not_a_hang():
    builtin = plugin_from_object("core", [_check("LK001", needs=["LK003"]), _check("LK002", needs=["LK001"]),
                                          _check("LK003", after=["LK002"])], builtin=True)
    with pytest.raises(GraphError, match=r"plugin core: cycle in needs/after: LK001 -> LK003 -> LK002 -> LK001"):
        _validated(builtin)


def test_builtin_unknown_need_is_a_graph_error():
    with pytest.raises(GraphError, match="plugin core: LK002 needs LK009, which no plugin provides"):
        _validated(plugin_from_object("core", [_check("LK002", needs=["LK009"])], builtin=True))


def test_third_party_plugin_with_unknown_id_or_cycle_is_skipped_with_a_warning():
    core = plugin_from_object("core", [_check("LK001"), _check("LK301", area="code"), _check("LK502", after=["area:code"])],
                              builtin=True)
    unknown = plugin_from_object("ext:typo", [_check("EX001", needs=["LK999"])])
    cyclic = plugin_from_object("ext:loop", [_check("EX101", area="code", needs=["LK502"])])
    good = plugin_from_object("ext:good", [_check("EX201", needs=["LK001"])])
    reg = _validated(core, unknown, cyclic, good)
    assert sorted(reg.checks) == ["EX201", "LK001", "LK301", "LK502"]
    assert reg.warnings == [
        "plugin ext:typo: EX001 needs LK999, which no plugin provides; the plugin is skipped",
        "plugin ext:loop: cycle in needs/after: EX101 -> LK502 -> EX101; the plugin is skipped",
    ]


def test_needs_between_third_party_plugins_do_not_depend_on_load_order():
    later = plugin_from_object("ext:b", [_check("EX002")])
    earlier = plugin_from_object("ext:a", [_check("EX001", needs=["EX002"])])
    assert sorted(_validated(earlier, later).checks) == ["EX001", "EX002"]


def test_after_an_area_means_every_selected_check_of_it():
    reg = make_registry(_check("LK301", area="code"), _check("LK302", area="code"), _check("LK101", area="sdk"),
                        _check("LK502", area="session", after=["area:code", "area:sdk"]))
    by_id = {c.id: c for c in reg.select()}
    assert by_id["LK502"].after == ("LK301", "LK302", "LK101")
    assert {c.id: c for c in reg.select(["LK502", "LK301"])}["LK502"].after == ("LK301",)


def test_unknown_area_in_after_is_reported():
    reg = Registry()
    reg.add(plugin_from_object("ext", [_check("EX001", after=["area:nope"])]))
    reg.validate()
    assert reg.warnings == ["plugin ext: EX001 runs after area:nope, an area no check has; the plugin is skipped"]


def test_lk502_runs_after_every_sdk_and_code_check_without_listing_ids():
    reg = load(PRODUCT)
    lk502 = {c.id: c for c in reg.select()}["LK502"]
    expected = sorted(cid for cid, c in reg.checks.items() if c.area in ("sdk", "code"))
    assert sorted(lk502.after) == expected and len(expected) >= 12
