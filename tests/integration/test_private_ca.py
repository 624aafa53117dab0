"""A server behind TLS signed by a private CA, given with --ca-file: every check that talks HTTP
honours it (LK205, LK206, LK502 and the `token` command used to verify against the system store
only and blamed the network), and without the CA the failure names the certificate."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from app_backend import Backend
from certs import CertificateAuthority
from conftest import clean_env
from tls_proxy import TlsProxy

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def private_tls(livekit_server, tmp_path_factory):
    """(proxy URL, CA file) for a TLS proxy in front of the shared server, its certificate from a private CA."""
    ca = CertificateAuthority(tmp_path_factory.mktemp("private-ca"))
    cert, key = ca.leaf("private")
    with TlsProxy(cert, key, livekit_server.port) as proxy:
        yield f"wss://localhost:{proxy.port}", ca.path


def run_json(run_doctor, tmp_path, env, *args):
    proc = run_doctor("--format", "json", "--no-snapshot", "--timeout", "40", *args,
                      env=clean_env(HOME=str(tmp_path), **env))
    assert proc.returncode in (0, 1), proc.stderr
    return {r["check_id"]: r for r in json.loads(proc.stdout)["results"]}


def test_every_http_check_trusts_the_private_ca(livekit_server, private_tls, run_doctor, tmp_path):
    url, ca_file = private_tls
    env = livekit_server.env() | {"LIVEKIT_URL": url}
    with Backend("correct", clean_env(**env)) as backend:
        r = run_json(run_doctor, tmp_path, env, "--select", "LK2,LK4,LK502", "--ca-file", str(ca_file),
                     "--app-endpoint", backend.url)
    statuses = {cid: r[cid]["status"] for cid in ("LK403", "LK404", "LK205", "LK206", "LK502")}
    assert statuses == {cid: "pass" for cid in statuses}, {cid: r[cid]["summary"] for cid in statuses}
    assert r["LK502"]["summary"].endswith(f"accepted by {url}")


def test_without_the_ca_the_token_check_names_the_certificate(livekit_server, private_tls, run_doctor, tmp_path):
    url, _ = private_tls
    r = run_json(run_doctor, tmp_path, livekit_server.env() | {"LIVEKIT_URL": url}, "--select", "LK205")
    assert r["LK205"]["status"] == "fail"
    assert "CERTIFICATE_VERIFY_FAILED" in r["LK205"]["summary"] or "certificate verify failed" in r["LK205"]["summary"]


@pytest.mark.parametrize("with_ca", [True, False])
def test_token_command_asks_the_server_through_the_ca(livekit_server, private_tls, tmp_path, with_ca):
    from livekit_doctor.checks.plumbing.server.tokens import join_grants, mint

    url, ca_file = private_tls
    token = mint(livekit_server.api_key, livekit_server.api_secret, identity="u", video=join_grants("r"))
    args = ["token", token] + (["--ca-file", str(ca_file)] if with_ca else [])
    proc = subprocess.run([sys.executable, "-m", "livekit_doctor", *args], capture_output=True, text=True, timeout=60,
                          cwd=tmp_path, env=clean_env(HOME=str(tmp_path), **(livekit_server.env() | {"LIVEKIT_URL": url})))
    server_line = next(line for line in proc.stdout.splitlines() if line.startswith("server:"))
    if with_ca:
        assert (proc.returncode, server_line) == (0, f"server:     accepted by {url} (/rtc/validate)")
    else:
        assert proc.returncode == 1 and "certificate verify failed" in server_line.lower()
