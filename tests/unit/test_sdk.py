"""Pure logic of the LK1xx checks: judging probe data, versions, interpreter choice, --python validation."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click
import pytest

from livekit_doctor.checks import sdk
from livekit_doctor.checks.plumbing.sdk.interpreter import PROBE_MARKER, choose_interpreter, parse_probe_output, validate_python
from livekit_doctor.checks.plumbing.sdk.sdk_shape import SdkShape, requirement_problems
from livekit_doctor.context import Context
from livekit_doctor.result import Status

SITE = "/venv/lib/python3.11/site-packages"


def probe_data(*, api=False, rtc=False, top_file=None, names=(), sources=None, versions=None, candidates=None,
               methods=None, requires=None):
    """A probe result in the shape sdk_probe.py prints (hand-built: this file tests the judging only)."""
    return {
        "python": {"version": "3.11.7"},
        "markers": {"python_version": "3.11", "sys_platform": "linux"},
        "versions": versions or {},
        "requires": requires or {},
        "owners": {},
        "candidates": candidates or [],
        "livekit": {"file": top_file, "path": [f"{SITE}/livekit"], "namespace": top_file is None},
        "imports": {"api": {"ok": api, "error": None if api else "ModuleNotFoundError: No module named 'livekit.api'"},
                    "rtc": {"ok": rtc, "error": None}},
        "names": {n: True for n in names},
        "name_sources": sources or {},
        "methods": methods or {},
    }


def test_official_family_and_aiohttp_loop_rule():
    shape = SdkShape.from_probe(probe_data(api=True, names=("LiveKitAPI",), versions={"livekit-api": "1.2.2", "aiohttp": "3.10.0"}))
    assert (shape.family, shape.winner, shape.aiohttp_needs_running_loop) == ("official", "official", True)
    older = SdkShape.from_probe(probe_data(api=True, versions={"livekit-api": "1.2.2", "aiohttp": "3.9.5"}))
    assert older.aiohttp_needs_running_loop is False


def test_third_party_alone_and_with_official():
    third = probe_data(top_file=f"{SITE}/livekit/__init__.py", names=("RoomServiceClient",),
                       sources={"RoomServiceClient": "livekit"})
    assert (SdkShape.from_probe(third).family, SdkShape.from_probe(third).winner) == ("third-party-sync", "third-party-sync")
    both = dict(third, imports={"api": {"ok": True, "error": None}}, versions={"livekit-api": "1.2.2"})
    shape = SdkShape.from_probe(both)
    assert (shape.family, shape.winner, shape.api_importable) == ("both", "third-party-sync", True)


def test_rtc_only_and_none():
    assert SdkShape.from_probe(probe_data(rtc=True, versions={"livekit": "1.2.1"})).family == "rtc-only"
    none = SdkShape.from_probe(probe_data())
    assert (none.family, none.winner) == ("none", None)


def test_regular_livekit_in_another_directory_shadows_the_namespace_portions():
    data = probe_data(
        top_file="/app/livekit.py", versions={"livekit-api": "1.2.2"},
        candidates=[{"path": "/app/livekit.py", "kind": "module"},
                    {"path": f"{SITE}/livekit", "kind": "namespace", "subpackages": ["api", "protocol", "requirements.txt"]}],
    )
    shape = SdkShape.from_probe(data)
    assert (shape.family, shape.livekit_file, shape.shadowed) == ("official", "/app/livekit.py", ["api", "protocol"])


def test_regular_package_in_the_same_directory_hides_nothing():
    data = probe_data(top_file=f"{SITE}/livekit/__init__.py",
                      candidates=[{"path": f"{SITE}/livekit", "kind": "regular"}])
    assert SdkShape.from_probe(data).shadowed == []


def test_probe_exception_becomes_probe_error_and_dict_round_trip():
    shape = SdkShape.from_probe({"probe_exception": "RuntimeError: boom"}, "/py", "--python")
    assert (shape.ok, shape.probe_error) == (False, "RuntimeError: boom")
    full = SdkShape.from_probe(probe_data(api=True, methods={"room.create_room": "async"}), "/py", "--python")
    assert SdkShape.from_dict(full.to_dict()) == full


def test_requirement_problems_honour_specifiers_and_markers():
    shape = SdkShape.from_probe(probe_data(
        versions={"livekit-api": "1.2.2", "livekit-protocol": "1.1.17", "protobuf": "7.36.2", "aiohttp": "3.14.5"},
        requires={"livekit-api": ["livekit-protocol<2.0.0,>=1.1.27", "aiohttp>=3.13.5; python_version < '3.10'",
                                  "aiohttp>=9; python_version >= '3.10'", "types-protobuf>=4"],
                  "livekit-protocol": ["protobuf>=5"]},
    ))
    assert requirement_problems(shape) == [
        "livekit-api 1.2.2 requires livekit-protocol<2.0.0,>=1.1.27, installed 1.1.17",
        "livekit-api 1.2.2 requires aiohttp>=9, installed 3.14.5",
    ]


def test_parse_probe_output():
    assert parse_probe_output(f"noise\n{PROBE_MARKER}{{\"a\": 1}}\n") == {"a": 1}
    for bad in ("hello world\n", f"{PROBE_MARKER}[1, 2]\n", f"{PROBE_MARKER}{{broken\n", ""):
        with pytest.raises(ValueError):
            parse_probe_output(bad)


def _venv(root: Path) -> Path:
    python = root / "bin" / "python"
    python.parent.mkdir(parents=True)
    python.touch()
    return python


def test_interpreter_precedence(tmp_path):
    project_python = _venv(tmp_path / ".venv")
    ctx = Context(project_dir=tmp_path, options={"python": "/opt/py"}, env={"VIRTUAL_ENV": "/envs/app"})
    assert choose_interpreter(ctx) == ("/opt/py", "--python")
    ctx = Context(project_dir=tmp_path, options={}, env={"VIRTUAL_ENV": "/envs/app"})
    assert choose_interpreter(ctx) == ("/envs/app/bin/python", "active virtualenv ($VIRTUAL_ENV=/envs/app)")
    ctx = Context(project_dir=tmp_path, options={}, env={})
    assert choose_interpreter(ctx) == (str(project_python), f".venv in the project directory {tmp_path}")
    python, reason = choose_interpreter(Context(project_dir=tmp_path / "elsewhere", options={}, env={}))
    assert (python, reason.split(" (")[0]) == (sys.executable, "the doctor's own interpreter")


def test_validate_python_accepts_interpreter_or_venv_dir(tmp_path):
    assert validate_python(None, None, sys.executable) == str(Path(sys.executable).absolute())
    assert validate_python(None, None, sys.prefix) == str(Path(sys.prefix, "bin", "python").absolute())
    with pytest.raises(click.BadParameter, match="no such file"):
        validate_python(None, None, str(tmp_path / "missing"))
    with pytest.raises(click.BadParameter, match=r"not a working Python interpreter \(exit 1\)"):
        validate_python(None, None, "/bin/false")


def _run_checks(shape: SdkShape) -> dict:
    async def go():
        ctx = Context(options={}, env={})

        async def make():
            return shape

        await ctx.amemo("sdk.shape", make)
        return {c.id: await c.func(ctx) for c in sdk.CHECKS}

    return asyncio.run(go())


def test_failed_probe_makes_every_check_an_error():
    results = _run_checks(SdkShape.failure("the SDK probe exited with code 3 in /py: no error output", "/py", "--python"))
    assert {cid: r.status for cid, r in results.items()} == {cid: Status.ERROR for cid in ("LK101", "LK102", "LK103", "LK104")}
    assert results["LK101"].summary == "could not inspect the SDK: the SDK probe exited with code 3 in /py: no error output"
    assert "point --python at the interpreter that runs the app" in results["LK101"].details


def codes(results: dict) -> dict[str, list[str]]:
    return {cid: [f.code for f in r.findings] for cid, r in results.items()}


THIRD = dict(top_file=f"{SITE}/livekit/__init__.py", names=("RoomServiceClient",), sources={"RoomServiceClient": "livekit"})


@pytest.mark.parametrize("data, expected", [
    (probe_data(api=True, names=("LiveKitAPI",), versions={"livekit-api": "1.2.2"},
                methods={"room.create_room": "async"}), {}),
    (probe_data(), {"LK101": ["not-installed"]}),
    (probe_data(rtc=True, versions={"livekit": "1.2.1"}), {"LK101": ["rtc-only"]}),
    (probe_data(**THIRD), {"LK101": ["third-party-only"], "LK102": ["third-party-package"]}),
    (dict(probe_data(**THIRD, methods={"room.create_room": "async", "RoomServiceClient.create_room": "sync"}),
          imports={"api": {"ok": True, "error": None}}, versions={"livekit-api": "1.2.2"}),
     {"LK102": ["both-families"], "LK103": ["mixed-conventions"]}),
    (probe_data(top_file="/app/livekit.py", versions={"livekit-api": "1.2.2"},
                candidates=[{"path": "/app/livekit.py", "kind": "module"},
                            {"path": f"{SITE}/livekit", "kind": "namespace", "subpackages": ["api"]}]),
     {"LK101": ["shadowed"], "LK102": ["shadowed-by-file"]}),
    (probe_data(versions={"livekit-api": "1.2.2", "livekit-protocol": "1.1.17"},
                requires={"livekit-api": ["livekit-protocol>=1.1.27"]}),
     {"LK101": ["requirements-not-met"], "LK104": ["requirements-not-met"]}),
    (probe_data(versions={"livekit-api": "0.1.0"}), {"LK101": ["import-fails"], "LK104": ["predates-livekitapi"]}),
    (probe_data(api=True, names=("RoomService",), versions={"livekit-api": "0.1.1"}),
     {"LK102": ["no-livekitapi"], "LK104": ["predates-livekitapi"]}),
    (dict(probe_data(api=True, names=("LiveKitAPI",), versions={"livekit-api": "0.2.0", "aiohttp": "3.10.0"}),
          api_timeout_default="int"), {"LK104": ["aiohttp-rejects-timeout"]}),
], ids=["official", "none", "rtc-only", "third-party", "both", "shadowed", "requirements", "0.1.0", "0.1.1", "clash"])
def test_each_judgement_has_its_declared_code(data, expected):
    results = _run_checks(SdkShape.from_probe(data, "/py", "--python"))
    assert {cid: found for cid, found in codes(results).items() if found} == expected
    declared = {c.id: {k.name for k in c.codes} for c in sdk.CHECKS}
    assert all(code in declared[cid] for cid, found in expected.items() for code in found)


def test_a_broken_requirement_is_named_as_the_cause_of_the_failed_import():
    data = probe_data(versions={"livekit-api": "1.2.2", "livekit-protocol": "1.1.17"},
                      requires={"livekit-api": ["livekit-protocol>=1.1.27"]})
    results = _run_checks(SdkShape.from_probe(data, "/py", "--python"))
    (lk101,), (lk104,) = results["LK101"].findings, results["LK104"].findings
    assert lk101.caused_by == ("LK104.requirements-not-met",)
    assert lk104.evidence == ("livekit-api 1.2.2 requires livekit-protocol>=1.1.27, installed 1.1.17",)


def documented_codes(check_id: str) -> list[str]:
    """The codes in the table of the page's "## Finding codes" section, in order."""
    import re

    from livekit_doctor.check import markdown_section

    page = Path(__file__).resolve().parents[2] / "docs" / "checks" / f"{check_id}.md"
    return re.findall(r"^\| `(LK\d{3}\.[a-z-]+)` \|", markdown_section(page.read_text(encoding="utf-8"), "Finding codes"),
                      re.M)


@pytest.mark.parametrize("chk", sdk.CHECKS, ids=lambda c: c.id)
def test_each_page_lists_the_declared_codes(chk):
    assert documented_codes(chk.id) == [f"{chk.id}.{c.name}" for c in chk.codes]
