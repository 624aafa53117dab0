import types

import pytest

from livekit_doctor.check import Check, check
from livekit_doctor.registry import Registry, SelectionError, load, plugin_from_object
from livekit_doctor.result import passed


def _check(cid, needs=()):
    return Check(id=cid, title=cid, area="a", func=lambda ctx: passed("ok"), needs=tuple(needs))


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
    reg = load()
    assert {"LK001", "LK002", "LK003", "LK004"} <= set(reg.checks)
    assert reg.checks["LK001"].plugin == "livekit-doctor:environment"


def test_every_registered_check_has_a_docs_page():
    reg = load()
    missing = [cid for cid, c in reg.checks.items() if c.plugin.startswith("livekit-doctor:") and not c.docs_page.is_file()]
    assert missing == []
