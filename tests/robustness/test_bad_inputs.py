"""Generated bad inputs for every option, file and command: each ends in exit 0, 1 or 2, never a
traceback or an internal error (exit 3), and a usage error is one line.

Table-driven: every value option of the doctor (read from the command itself, so an option added
later is covered without a change here) gets every value of BAD_VALUES; every file the doctor reads
(--env-file, the project's .env, the lk CLI's config, --ca-file, a saved report, the token on stdin,
a project's source file) gets every content of BAD_CONTENTS; every subcommand gets bad arguments.
Runs in-process (tests/robustness/inprocess.py); named pipes, which would block a broken reader for
ever, run in a subprocess with a deadline (test_exit.py).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import click
import pytest

from inprocess import invoke
from livekit_doctor import PRODUCT
from livekit_doctor.cli import build_cli
from livekit_doctor.registry import load

CLOSED = "ws://127.0.0.1:9"  # a loopback port nobody listens on: network steps fail at once
# Checks that read the settings, the network options and the app endpoint, without the SDK probe.
CHEAP = ["--select", "LK201,LK202,LK203,LK204,LK401,LK402,LK502", "--no-snapshot", "--net-timeout", "0.5"]

# Output options are given these too: the doctor runs as root here, so no value may name a system file it could
# replace (the devices are written in place; test_devices_are_written_in_place_never_replaced checks that).
BAD_VALUES = [
    "", " ", "\t\n", "\x00", "\x1b[31m", "nan", "inf", "-inf", "-1", "0", "1e999", "9" * 400, "é€😀", "\u202e",
    "-", "--", "%s%n%x", "../../no-such-dir/etc/passwd", "/dev/zero", "/dev/null", "/", "~", "ws://[::1:7880",
    "http://user:p@ss@127.0.0.1:9/", "wss://", "ws://127.0.0.1:99999", "ws://host:-1", "a" * 100_000,
    "LK", "LK9", "lk201", "LK2,,LK4", "{}", "[]", '{"a":' * 2000, "\udcff",
]


def value_options() -> list[str]:
    """Every option of the doctor that takes a value (its longest name)."""
    cli = build_cli(load(PRODUCT), PRODUCT)
    names = []
    for param in cli.params:
        if isinstance(param, click.Option) and not param.is_flag and param.name not in ("help", "version"):
            names.append(max(param.opts, key=len))
    return sorted(names)


OPTIONS = value_options()


def test_the_table_covers_the_options_that_read_files_and_urls():
    assert {"--env-file", "--url", "--timeout", "--net-timeout", "--output", "--junit", "--snapshot", "--select",
            "--ignore", "--project", "--python", "--ca-file", "--app-endpoint", "--app-payload"} <= set(OPTIONS)


@pytest.mark.parametrize("option", OPTIONS)
@pytest.mark.parametrize("value", BAD_VALUES, ids=lambda v: repr(v)[:24])
def test_every_option_with_every_bad_value(tmp_path, option, value):
    args = [*CHEAP, option, value] if option != "--select" else ["--no-snapshot", "--net-timeout", "0.5",
                                                                     option, value]
    invoke(args, tmp_path, LIVEKIT_URL=CLOSED, LIVEKIT_API_KEY="APIrobustness",
           LIVEKIT_API_SECRET="s" * 40).check(args)


def _random(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


BAD_CONTENTS = {
    "empty": b"",
    "nul bytes": b"\x00" * 1000,
    "not utf-8": b"LIVEKIT_URL=ws://x\nLIVEKIT_API_KEY=\xff\xfe\n",
    "utf-16": "LIVEKIT_URL=ws://127.0.0.1:9\n".encode("utf-16"),
    "bom": b"\xef\xbb\xbfLIVEKIT_URL=ws://127.0.0.1:9\n",
    "too large": b"a" * 2_000_000,
    "deep brackets": b"[" * 50_000 + b"]" * 50_000,
    "deep yaml": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
    "yaml aliases": b"a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n",
    "yaml list": b"- 1\n- 2\n",
    "yaml wrong types": b"default_project: 5\nprojects: {a: 1}\n",
    "lk project wrong types": b"default_project: a\nprojects:\n - name: a\n   url: [1]\n   api_key: {a: 1}\n",
    "json list": b"[1, 2]",
    "json nan": b'{"schema_version": 2, "results": [], "started_at": "2024-01-01T00:00:00Z", "duration": NaN}',
    "run of wrong types": b'{"schema_version": 2, "results": [{"status": "pass", "summary": 5, "facts": []}], '
                          b'"started_at": "2024-01-01T00:00:00Z", "fail_on": "never"}',
    "run with bad status": b'{"schema_version": 2, "results": [{"status": "great"}], "started_at": "x"}',
    "control characters": bytes(range(32)) * 10,
    "crlf": b"LIVEKIT_URL=ws://127.0.0.1:9\r\nLIVEKIT_API_KEY=k\r\n",
    "random 1": _random(1, 4096),
    "random 2": _random(2, 65536),
    "python syntax error": b"def f(:\n",
    "python deep": b"x = " + b"(" * 5000 + b")" * 5000 + b"\n",
    "python coding": b"# -*- coding: latin-1 -*-\ns = '\xe9'\n",
    "python bad coding": b"# -*- coding: no-such-codec -*-\nx = 1\n",
}


@pytest.mark.parametrize("name", sorted(BAD_CONTENTS))
@pytest.mark.parametrize("where", ["--env-file", ".env", "lk config", "--ca-file", "report", "token stdin",
                                   "token argument", "scan", "doctor code"])
def test_every_file_with_every_bad_content(tmp_path, where, name):
    content = BAD_CONTENTS[name]
    project = tmp_path / "project"
    project.mkdir()
    env = {"LIVEKIT_URL": CLOSED, "LIVEKIT_API_KEY": "APIrobustness", "LIVEKIT_API_SECRET": "s" * 40}
    bad = tmp_path / "bad.file"
    bad.write_bytes(content)
    stdin = None
    if where == "--env-file":
        env = {}
        args = [*CHEAP, "--project", str(project), "--env-file", str(bad)]
    elif where == ".env":
        env = {}
        (project / ".env").write_bytes(content)
        args = [*CHEAP, "--project", str(project)]
    elif where == "lk config":
        env = {}
        (tmp_path / ".livekit").mkdir()
        (tmp_path / ".livekit" / "cli-config.yaml").write_bytes(content)
        args = [*CHEAP, "--project", str(project)]
    elif where == "--ca-file":
        args = [*CHEAP, "--url", "wss://127.0.0.1:9", "--ca-file", str(bad)]
    elif where == "report":
        args = ["report", str(bad)]
    elif where == "token stdin":
        args, stdin = ["token", "--no-server", "-"], content
    elif where == "token argument":
        args = ["token", "--no-server", content.decode("utf-8", "replace").replace("\x00", "")[:100_000]]
    elif where == "scan":
        (project / "app.py").write_bytes(content)
        args = ["scan", "--no-cache", str(project)]
    else:
        (project / "app.py").write_bytes(b"from livekit import api\n" + content)
        args = ["--select", "LK3", "--no-snapshot", "--project", str(project)]
    outcome = invoke(args, tmp_path, input=stdin, **env).check(args)
    if where in (".env", "--env-file", "lk config") and name in ("not utf-8", "too large", "utf-16"):
        assert "not set; " in outcome.out and "LK201.source-unreadable" in outcome.out and ("not UTF-8" in outcome.out or "larger than" in outcome.out), outcome.out


@pytest.mark.parametrize("args", [
    ["explain"], ["explain", ""], ["explain", "LK999"], ["explain", "\x00"], ["explain", "lk201"], ["explain", "a" * 10_000],
    ["list", "extra"], ["report"], ["report", "/nonexistent"], ["report", "/"], ["report", "/dev/null"],
    ["report", "-"], ["token"], ["token", ""], ["token", "Bearer"], ["token", "a.b.c"], ["token", "eyJ.eyJ.x"],
    ["token", "https://x/?access_token="], ["token", '{"token": 5}'], ["token", "--format", "xml", "x"],
    ["scan", "/nonexistent"], ["scan", "/dev/null"], ["scan", "--format", "nope"], ["scan", "--fail-on", "x"],
    ["--format", "pdf"], ["--fail-on", "never"], ["--select", "LK201", "--no-snapshot", "--snapshot", "x.md"],
    ["--bogus"], ["nocommand"], ["--select"], ["-o"], ["--ignore", "LK", "--no-snapshot"],
    ["--ignore", "LK", "--format", "junit", "--no-snapshot"], ["--ignore", "LK", "--format", "json", "--no-snapshot"],
    ["--select", "LK201", "--output", "/proc/nope/x"], ["--select", "LK201", "--junit", "/"],
    ["--select", "LK201", "--snapshot", "/dev/full/x.md"], ["--select", "LK201", "--project", "/dev/null"],
    ["--select", "LK201", "--no-snapshot", "--env-file", "/nonexistent"],
    ["--select", "LK201", "--no-snapshot", "--python", "/bin/false"],
    ["--select", "LK201", "--no-snapshot", "--python", "/etc/passwd"],
    ["--select", "LK201", "--no-snapshot", "--app-payload", "[1]"],
])
def test_commands_with_bad_arguments(tmp_path, args):
    invoke(args, tmp_path).check(args)


@pytest.mark.parametrize("option", ["--output", "--junit", "--snapshot"])
def test_devices_are_written_in_place_never_replaced(tmp_path, option):
    import stat

    args = ["--select", "LK001", "--no-snapshot", option, "/dev/null"]
    invoke(args, tmp_path).check(args)
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)  # still the device, not a file holding the report


def test_a_symlinked_report_replaces_its_target_not_the_link(tmp_path):
    (tmp_path / "real.json").write_text("old")
    (tmp_path / "link.json").symlink_to(tmp_path / "real.json")
    args = ["--select", "LK001", "--no-snapshot", "--format", "json", "--output", str(tmp_path / "link.json")]
    invoke(args, tmp_path).check(args)
    assert (tmp_path / "link.json").is_symlink() and '"schema_version"' in (tmp_path / "real.json").read_text()


def test_everything_ignored_is_a_clean_empty_run(tmp_path):
    outcome = invoke(["--ignore", "LK", "--no-snapshot"], tmp_path).check([])
    assert (outcome.code, outcome.out.strip()) == (0, "0 passed in 0.00 s")


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "0", "-5", "1e999"])
@pytest.mark.parametrize("option", ["--timeout", "--net-timeout"])
def test_non_finite_durations_are_usage_errors(tmp_path, option, value):
    outcome = invoke(["--select", "LK001", "--no-snapshot", option, value], tmp_path).check([option, value])
    assert outcome.code == 2 and "is not a positive, finite number of seconds" in outcome.err


def test_a_step_summary_that_is_a_directory_is_refused_before_the_run(tmp_path):
    outcome = invoke(["--select", "LK001", "--no-snapshot"], tmp_path, GITHUB_ACTIONS="true",
                     GITHUB_STEP_SUMMARY=str(tmp_path))
    assert (outcome.code, outcome.err.strip()) == (2, f"livekit-doctor: error: cannot write {tmp_path}: it is a directory")


def test_junit_stays_valid_xml_with_control_characters_from_an_app(tmp_path):
    import xml.dom.minidom

    from web_server import serving

    with serving(lambda path: (500, bytes(range(32)) + b"\xed\xa0\x80 boom")) as port:
        args = ["--select", "LK502", "--no-snapshot", "--app-endpoint", f"http://127.0.0.1:{port}/session",
                "--format", "junit", "--output", str(tmp_path / "out.xml")]
        invoke(args, tmp_path).check(args)
    xml.dom.minidom.parse(str(tmp_path / "out.xml"))  # raises on an invalid document
    assert "boom" in (tmp_path / "out.xml").read_text()


def test_report_refuses_what_a_renderer_could_not_show(tmp_path):
    saved = {"schema_version": 2, "started_at": "2024-01-01T00:00:00Z",
             "results": [{"status": "pass", "summary": "ok", "facts": ["not", "an", "object"]}]}
    (tmp_path / "run.json").write_text(json.dumps(saved))
    outcome = invoke(["report", str(tmp_path / "run.json")], tmp_path)
    assert (outcome.code, outcome.err.strip()) == (
        2, f"livekit-doctor: error: {tmp_path / 'run.json'}: results[0].facts is ['not', 'an', 'object'] (of type "
           "list): not what a saved run holds")


@pytest.mark.parametrize("claims,shown", [
    ('{"iss":"k","sub":"u","exp":1e20,"video":{"roomJoin":true,"room":"r"}}', "expires:    1e+20 (out of any date range)"),
    ('{"iss":"k","sub":"u","exp":NaN,"nbf":Infinity}', "problem:    exp is not a number (nan)"),
    ('{"iss":"k","sub":"u","exp":-1e300}', "expires:    -1e+300 (out of any date range)"),
    ('{"iss":"k","video":"room"}', "video = room (not an object: ignored)"),
    ('{"iss":"k","video":["a"]}', 'video = ["a"] (not an object: ignored)'),
])
def test_odd_but_well_formed_claims_are_explained(tmp_path, claims, shown):
    import base64

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b'{"alg":"HS256","kid":5}'
    token = f"{b64(header)}.{b64(claims.encode())}.{b64(b'x' * 32)}"
    outcome = invoke(["token", "--no-server", token], tmp_path).check([claims])
    assert outcome.code == 1 and shown in outcome.out, outcome.out
    assert "the header's kid is int, not a string" in outcome.out
