"""The layering docs/architecture.md promises, checked on the source: who may import whom,
and no module grown past the size where it holds several modules' worth."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENGINE, CHECKS = ROOT / "diagnose", ROOT / "checks"
AREA_MODULES = sorted(p for p in CHECKS.glob("*.py") if p.stem not in ("__init__", "builtin", "areas"))
MAX_LINES = 400


def imported_modules(path: Path) -> set[str]:
    """Absolute module names a file imports (relative imports resolved against its package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(ENGINE.rglob("*.py")), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_engine_imports_nothing_livekit_specific(path):
    bad = {m for m in imported_modules(path) if m == "livekit" or m.startswith(("livekit.", "livekit_doctor.checks"))}
    assert bad == set()


@pytest.mark.parametrize("path", AREA_MODULES, ids=lambda p: p.name)
def test_check_modules_import_only_the_plugin_api_the_wing_and_the_code_scan(path):
    ours = {m for m in imported_modules(path) if m.startswith("livekit_doctor")}
    allowed = ("livekit_doctor.plugin", "livekit_doctor.checks.plumbing", "livekit_doctor.checks.codescan",
               "livekit_doctor.checks.areas")
    assert {m for m in ours if not m.startswith(allowed)} == set()


# The plumbing wing, by what each part talks to, and the parts each may use (docs/architecture.md).
PARTS = {
    "config": set(),  # the resolved URL, credentials and the typed options
    "network": {"config"},  # probes, the HTTP client, ICE/TURN reachability
    "server": {"network", "config"},  # the server's API, tokens and grants, the signal connection
    "media": {"server", "network", "config"},  # the rtc SDK's sessions, tones, speech, media health
    "sdk": {"config"},  # interpreters and the SDK probes run inside them
    "agents": {"media", "server", "network", "config", "sdk"},  # voice agents, their workers and dispatches
    "app": {"agents", "server", "network", "config"},  # the app's own session endpoint
    "processes": {"server", "network", "config"},  # other processes on this machine
}
PLUMBING = "livekit_doctor.checks.plumbing."


def test_plumbing_is_split_into_the_parts_and_nothing_else():
    parts = {p.name for p in (CHECKS / "plumbing").iterdir() if p.is_dir() and p.name != "__pycache__"}
    loose = [p.name for p in (CHECKS / "plumbing").glob("*.py") if p.name != "__init__.py"]
    assert (parts, loose) == (set(PARTS), [])


@pytest.mark.parametrize("part", sorted(PARTS))
def test_each_plumbing_part_uses_only_the_parts_below_it(part):
    used = {m[len(PLUMBING):].split(".")[0] for path in (CHECKS / "plumbing" / part).glob("*.py")
            for m in imported_modules(path) if m.startswith(PLUMBING)}
    assert used - {part} <= PARTS[part], f"plumbing/{part} uses {sorted(used - {part} - PARTS[part])}"


def test_the_wing_reads_options_through_the_typed_object():
    """`wing_options(ctx).net_timeout`, not `ctx.option("net_timeout")`: a misspelt name fails at import, not at run."""
    readers = [p.relative_to(ROOT).as_posix() for p in CHECKS.rglob("*.py") if "ctx.option(" in p.read_text(encoding="utf-8")]
    assert readers == []


def test_plumbing_holds_no_checks():
    for path in (CHECKS / "plumbing").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        decorated = [n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                     and any("check" in ast.unparse(d) for d in n.decorator_list)]
        assert decorated == [], path.name


@pytest.mark.parametrize("path", sorted([*ENGINE.rglob("*.py"), *CHECKS.rglob("*.py")]),
                         ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_over_the_size_limit(path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= MAX_LINES


def test_every_package_folder_is_installed():
    """setup.cfg lists packages explicitly (package_dir maps the folders): a new subpackage must be listed."""
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    listed = set(cfg["options"]["packages"].split())
    on_disk = {"livekit_doctor" + ("." + ".".join(p.parent.relative_to(ENGINE).parts) if p.parent != ENGINE else "")
               for p in ENGINE.rglob("__init__.py")}
    on_disk |= {"livekit_doctor.checks" + ("." + ".".join(p.parent.relative_to(CHECKS).parts) if p.parent != CHECKS
                                           else "") for p in CHECKS.rglob("__init__.py")}
    assert on_disk == listed
