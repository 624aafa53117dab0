"""LK1xx against real SDK releases installed from the registry into cached throwaway virtualenvs.

The third-party synchronous package is the local stand-in under tests/fixtures/third_party_sdk
(the real one is not installable here); everything else is the released distribution.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

import pytest

from livekit_doctor.checks import sdk
from livekit_doctor.checks.plumbing.sdk.sdk_shape import SdkShape, installed_sdk
from livekit_doctor.context import Context
from sdk_venvs import VenvBuildError, ensure_all

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
pytestmark = pytest.mark.sdk_venvs


SDK_VENVS = ["none", "api-0.1.0", "api-0.1.1", "api-0.2.0", "api-0.8", "api-1.0", "api-newest", "rtc-only",
             "third-party", "third-party+api", "protocol-mismatch"]  # the agents' venvs are other tests'


@pytest.fixture(scope="session")
def venvs() -> dict[str, Path]:
    """Every release venv these tests use, built in parallel on first use and cached under ~/.cache/livekit-doctor."""
    try:
        return ensure_all(SDK_VENVS)
    except (VenvBuildError, OSError) as exc:
        if IN_CI:
            pytest.fail(f"could not build the SDK virtualenvs: {exc}")
        pytest.skip(f"could not build the SDK virtualenvs (needs the package registry): {exc}")


def env_without_venv() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV" and not k.startswith("LIVEKIT_")}
    env["NO_COLOR"] = "1"
    return env


def inspect(python: Path, project: Path, **env: str) -> tuple[SdkShape, dict]:
    """Probe `python` for real, then run the four checks on that shape, as the runner would."""

    async def go():
        ctx = Context(project_dir=project, options={"python": str(python)}, env={**env_without_venv(), **env})
        shape = await installed_sdk(ctx)
        return shape, {c.id: await c.func(ctx) for c in sdk.CHECKS}

    return asyncio.run(go())


def statuses(results: dict) -> dict[str, str]:
    return {cid: r.status.value for cid, r in results.items()}


def codes(results: dict) -> dict[str, list[str]]:
    """Each check's finding codes (as the check returns them; the runner prefixes its ID), where it has some."""
    return {cid: [f.code for f in r.findings] for cid, r in results.items() if r.findings}


def test_api_0_1_0_is_installed_but_does_not_import(venvs, tmp_path):
    shape, results = inspect(venvs["api-0.1.0"], tmp_path)
    assert (shape.family, shape.api_importable, shape.versions["livekit-api"]) == ("official", False, "0.1.0")
    assert statuses(results) == {"LK101": "fail", "LK102": "skip", "LK103": "skip", "LK104": "warn"}
    assert codes(results) == {"LK101": ["import-fails"], "LK104": ["predates-livekitapi"]}
    assert results["LK101"].summary == (
        "livekit-api 0.1.0 is installed but `import livekit.api` fails: ValueError: mutable default "
        "<class 'list'> for field can_publish_sources is not allowed: use default_factory")
    assert results["LK104"].summary == "livekit-api 0.1.0 predates LiveKitAPI (added in 0.2.0)"


def test_api_0_1_1_has_room_service_only(venvs, tmp_path):
    shape, results = inspect(venvs["api-0.1.1"], tmp_path)
    assert {n for n, present in shape.names.items() if present} == {"RoomService", "AccessToken", "VideoGrants"}
    assert statuses(results) == {"LK101": "pass", "LK102": "warn", "LK103": "pass", "LK104": "warn"}
    assert codes(results) == {"LK102": ["no-livekitapi"], "LK104": ["predates-livekitapi"]}
    assert results["LK102"].summary == ("livekit-api 0.1.1 has no LiveKitAPI (added in 0.2.0): only RoomService, "
                                        "AccessToken, VideoGrants")
    assert shape.methods["room.create_room"] == "async" and "LiveKitAPI.aclose" not in shape.methods


@pytest.mark.parametrize("name, version, extra_names", [
    ("api-0.2.0", "0.2.0", set()),
    ("api-0.8", "0.8.2", {"TwirpError"}),
    ("api-1.0", "1.0.7", {"TwirpError"}),
    ("api-newest", None, {"TwirpError", "ServerError"}),
])
def test_official_releases_with_livekitapi(venvs, tmp_path, name, version, extra_names):
    shape, results = inspect(venvs[name], tmp_path)
    if version:
        assert shape.versions["livekit-api"] == version
    assert (shape.family, shape.winner, shape.rtc) == ("official", "official", False)
    assert {n for n, p in shape.names.items() if p} == {"LiveKitAPI", "AccessToken", "VideoGrants", "TokenVerifier"} | extra_names
    old_timeout = name == "api-0.2.0"  # LiveKitAPI(timeout=60) as an int: aiohttp >= 3.9 raises ValueError
    assert statuses(results) == {"LK101": "pass", "LK102": "pass", "LK103": "pass",
                                 "LK104": "fail" if old_timeout else "pass"}
    assert codes(results) == ({"LK104": ["aiohttp-rejects-timeout"]} if old_timeout else {})
    if old_timeout:
        assert shape.api_timeout_default == "int"
        assert results["LK104"].summary.startswith("livekit-api 0.2.0 passes LiveKitAPI's timeout to aiohttp as a "
                                                   "plain number, which aiohttp ")
        assert "install -U livekit-api" in results["LK104"].fix
        _really_raises(venvs[name])
    assert {shape.methods[m] for m in ("room.create_room", "room.list_rooms", "room.delete_room",
                                       "room.list_participants", "LiveKitAPI.aclose")} == {"async"}
    assert (shape.methods["AccessToken.to_jwt"], shape.methods["TokenVerifier.verify"]) == ("sync", "sync")
    assert results["LK103"].summary == ("room.create_room is async (await it); AccessToken.to_jwt is synchronous "
                                        "(do not await); TokenVerifier.verify is synchronous (do not await)")
    assert results["LK103"].facts["sdk"] == shape.to_dict()
    assert shape.aiohttp_needs_running_loop is True
    if not old_timeout:
        assert "construct LiveKitAPI inside a running event loop" in results["LK104"].summary


def _really_raises(python: Path) -> None:
    """The verdict is the SDK's own behaviour: LiveKitAPI() in that venv raises as LK104 says."""
    code = ("import asyncio\nfrom livekit import api\nasync def main():\n    api.LiveKitAPI('http://127.0.0.1:1', 'k', 's')\n"
            "asyncio.run(main())\n")
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    assert "ValueError: timeout parameter cannot be of <class 'int'> type" in proc.stderr


def test_no_livekit_at_all(venvs, tmp_path):
    shape, results = inspect(venvs["none"], tmp_path)
    assert (shape.family, shape.winner, shape.methods) == ("none", None, {})
    assert statuses(results) == {"LK101": "fail", "LK102": "skip", "LK103": "skip", "LK104": "skip"}
    assert codes(results) == {"LK101": ["not-installed"]}
    assert results["LK101"].summary == f"no LiveKit package is installed in {venvs['none']}"
    assert results["LK101"].fix.startswith(f"Install the official server SDK: `{venvs['none']} -m pip install livekit-api`")


def test_rtc_package_only(venvs, tmp_path):
    shape, results = inspect(venvs["rtc-only"], tmp_path)
    assert (shape.family, shape.rtc, shape.api_importable) == ("rtc-only", True, False)
    assert statuses(results) == {"LK101": "fail", "LK102": "skip", "LK103": "skip", "LK104": "pass"}
    assert codes(results) == {"LK101": ["rtc-only"]}
    assert "`from livekit import api` fails (cannot import name 'api' from 'livekit')" in results["LK101"].summary


def test_third_party_stand_in_alone(venvs, tmp_path):
    shape, results = inspect(venvs["third-party"], tmp_path)
    assert (shape.family, shape.winner, shape.api_importable) == ("third-party-sync", "third-party-sync", False)
    assert shape.livekit_file.endswith("site-packages/livekit/__init__.py")
    assert {n for n, p in shape.names.items() if p} == {"RoomServiceClient", "AccessToken", "VideoGrant"}
    assert statuses(results) == {"LK101": "warn", "LK102": "warn", "LK103": "pass", "LK104": "skip"}
    assert codes(results) == {"LK101": ["third-party-only"], "LK102": ["third-party-package"]}
    assert results["LK103"].summary == ("RoomServiceClient.create_room is synchronous (do not await; call it off "
                                        "the event loop); AccessToken.to_jwt is synchronous (do not await)")
    assert {shape.methods[f"RoomServiceClient.{m}"] for m in ("create_room", "list_rooms", "delete_room")} == {"sync"}


def test_third_party_stand_in_with_livekit_api(venvs, tmp_path):
    shape, results = inspect(venvs["third-party+api"], tmp_path)
    assert (shape.family, shape.winner) == ("both", "third-party-sync")
    # same site-packages: the regular livekit/__init__.py wins `import livekit`, but livekit/api/ is still inside it
    assert (shape.api_importable, shape.shadowed) == (True, [])
    assert statuses(results) == {"LK101": "pass", "LK102": "fail", "LK103": "warn", "LK104": "pass"}
    assert codes(results) == {"LK102": ["both-families"], "LK103": ["mixed-conventions"]}
    assert results["LK102"].summary.startswith(
        "both SDK families are installed: `from livekit import ...` resolves to the third-party synchronous "
        "package (livekit-server-sdk-python, ")
    assert (shape.methods["room.create_room"], shape.methods["RoomServiceClient.create_room"]) == ("async", "sync")


def test_third_party_hides_livekit_api_from_another_sys_path_entry(venvs, tmp_path):
    """livekit-api on PYTHONPATH (as from a user site or a vendored folder), the stand-in in the venv."""
    official_site = next(venvs["api-newest"].parent.parent.glob("lib/python*/site-packages"))
    shape, results = inspect(venvs["third-party"], tmp_path, PYTHONPATH=str(official_site))
    assert (shape.family, shape.winner, shape.api_importable, shape.shadowed) == (
        "both", "third-party-sync", False, ["api", "protocol"])
    assert statuses(results) == {"LK101": "fail", "LK102": "fail", "LK103": "warn", "LK104": "pass"}
    assert codes(results) == {"LK101": ["shadowed"], "LK102": ["both-families"], "LK103": ["mixed-conventions"]}
    assert results["LK102"].summary.endswith(
        "; livekit.api is hidden: ModuleNotFoundError: No module named 'livekit.api'")
    assert results["LK101"].fix.startswith(f"`livekit` resolves to {shape.livekit_file}, which hides the installed package")


def test_protocol_older_than_livekit_api_requires(venvs, tmp_path):
    shape, results = inspect(venvs["protocol-mismatch"], tmp_path)
    assert statuses(results) == {"LK101": "fail", "LK102": "skip", "LK103": "skip", "LK104": "fail"}
    assert codes(results) == {"LK101": ["requirements-not-met"], "LK104": ["requirements-not-met"]}
    assert results["LK101"].findings[0].caused_by == ("LK104.requirements-not-met",)
    assert results["LK104"].summary == "livekit-api 1.2.2 requires livekit-protocol<2.0.0,>=1.1.27, installed 1.1.17"
    assert results["LK101"].summary.startswith("livekit-api 1.2.2 is installed but `import livekit.api` fails: ImportError")
    assert results["LK101"].fix.startswith("Its requirements are not met (see LK104)")


def test_project_livekit_module_shadows_the_installed_sdk(venvs, tmp_path):
    (tmp_path / "livekit.py").write_text("# the user's own module, named like the SDK\n")
    shape, results = inspect(venvs["api-newest"], tmp_path)
    assert (shape.livekit_file, shape.shadowed) == (str(tmp_path / "livekit.py"), ["api", "protocol"])
    assert statuses(results) == {"LK101": "fail", "LK102": "fail", "LK103": "skip", "LK104": "pass"}
    assert codes(results) == {"LK101": ["shadowed"], "LK102": ["shadowed-by-file"]}
    assert results["LK102"].summary == (f"`livekit` resolves to {tmp_path / 'livekit.py'}, which shadows the installed "
                                        "LiveKit packages (livekit.api, livekit.protocol)")


def test_cli_json_end_to_end(venvs, run_doctor, tmp_path):
    proc = run_doctor("--select", "LK1", "--python", str(venvs["api-newest"]), "--format", "json", env=env_without_venv())
    assert proc.returncode == 0, proc.stderr
    results = {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}
    assert {cid: r["status"] for cid, r in results.items()} == {"LK101": "pass", "LK102": "pass", "LK103": "pass", "LK104": "pass"}
    facts = results["LK103"]["facts"]["sdk"]
    assert (facts["family"], facts["interpreter"], facts["interpreter_reason"]) == ("official", str(venvs["api-newest"]), "--python")
    assert facts["methods"]["room.create_room"] == "async"


def test_cli_third_party_exit_code_and_text(venvs, run_doctor):
    proc = run_doctor("--select", "LK102", "--python", str(venvs["third-party+api"]), env=env_without_venv())
    assert proc.returncode == 1
    assert proc.stdout.startswith("FAIL  LK102  SDK import shape: both SDK families are installed")


def test_cli_json_names_the_codes_and_the_cause_of_the_consequence(venvs, run_doctor):
    """Both families installed: LK103's mixed conventions follow from LK102's finding, the diagnosis's root."""
    proc = run_doctor("--select", "LK102,LK103", "--python", str(venvs["third-party+api"]), "--format", "json",
                      env=env_without_venv())
    doc = json.loads(proc.stdout)
    found = {f["code"]: f for r in doc["results"] for f in r["findings"]}
    assert set(found) == {"LK102.both-families", "LK103.mixed-conventions"}
    assert found["LK103.mixed-conventions"]["caused_by"] == ["LK102.both-families"]
    assert [(c["code"], c["consequences"]) for c in doc["diagnosis"]["root_causes"]] == [
        ("LK102.both-families", ["LK103.mixed-conventions"])]


def test_interpreter_from_virtual_env_then_project_venv(venvs, run_doctor, tmp_path):
    newest = venvs["api-newest"].parent.parent
    env = dict(env_without_venv(), VIRTUAL_ENV=str(venvs["third-party"].parent.parent))
    (tmp_path / ".venv").symlink_to(newest)
    proc = run_doctor("--select", "LK103", "--format", "json", env=env)
    facts = json.loads(proc.stdout)["results"][0]["facts"]["sdk"]
    assert (facts["family"], facts["interpreter_reason"]) == (
        "third-party-sync", f"active virtualenv ($VIRTUAL_ENV={venvs['third-party'].parent.parent})")
    proc = run_doctor("--select", "LK103", "--format", "json", env=env_without_venv())
    facts = json.loads(proc.stdout)["results"][0]["facts"]["sdk"]
    assert (facts["family"], facts["interpreter"], facts["interpreter_reason"]) == (
        "official", str(tmp_path / ".venv" / "bin" / "python"), f".venv in the project directory {tmp_path}")


def test_code_that_imports_livekit_api_follows_from_the_install(venvs, run_doctor):
    """Only the rtc package installed: LK301's `livekit.api cannot be imported` is LK101's consequence."""
    project = Path(__file__).resolve().parents[1] / "fixtures" / "codescan" / "correct_lazy"
    proc = run_doctor("--select", "LK101,LK301", "--python", str(venvs["rtc-only"]), "--project", str(project),
                      "--format", "json", "--no-cache", env=env_without_venv())
    doc = json.loads(proc.stdout)
    found = {f["code"]: f for r in doc["results"] for f in r["findings"]}
    assert set(found) == {"LK101.rtc-only", "LK301.api-not-importable"}
    assert found["LK301.api-not-importable"]["caused_by"] == ["LK101.rtc-only"]
    assert [(c["code"], c["consequences"]) for c in doc["diagnosis"]["root_causes"]] == [
        ("LK101.rtc-only", ["LK301.api-not-importable"])]
