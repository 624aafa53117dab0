"""The code scan on real code nobody here wrote: released LiveKit distributions and third-party
packages using livekit-api (tests/scan_corpus.py), against a list of every expected finding.

Any finding not listed in corpus_expected.txt is a false positive until justified there; any listed
one that disappears is a lost true finding. In CI a corpus that cannot be built fails the test.
"""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import FIXTURES, clean_env
from scan_corpus import CorpusBuildError, ensure_corpus

EXPECTED = FIXTURES / "codescan" / "corpus_expected.txt"


@pytest.fixture(scope="module")
def corpus():
    try:
        return ensure_corpus()
    except (CorpusBuildError, OSError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"could not build the scan corpus: {exc}")
        pytest.skip(f"scan corpus not available (offline?): {exc}")


def expected() -> dict[str, str]:
    """`path:line RULE` / `skipped path` -> justification."""
    entries = {}
    for line in EXPECTED.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            key, _, why = line.partition(" -- ")
            assert why.strip(), f"no justification for {key}"
            entries[key.strip()] = why.strip()
    return entries


def test_every_finding_on_real_code_is_expected_and_justified(run_doctor, corpus):
    proc = run_doctor("scan", str(corpus), "--python", sys.executable, "--format", "json", "--no-cache",
                      env=clean_env(VIRTUAL_ENV=""), timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    data = json.loads(proc.stdout)
    assert data["sdk"] == "livekit-api (async)"
    assert data["files"] > 600 and data["lines"] > 150_000  # the whole corpus was read
    got = {f"{f['path']}:{f['line']} {f['rule']}" for f in data["findings"]}
    got |= {f"skipped {s['path']}" for s in data["skipped"]}
    listed = set(expected())
    assert sorted(got - listed) == [], "new findings: false positives, or true ones to justify in corpus_expected.txt"
    assert sorted(listed - got) == [], "expected findings that disappeared"


def test_livekit_own_code_has_no_findings(run_doctor, corpus):
    """LiveKit's agents framework and SDKs are correct code: the scan must stay silent on them."""
    entries = [key for key in expected() if key.split()[-1 if key.startswith("skipped") else 0].startswith("livekit/")]
    assert entries == []
    assert (corpus / "livekit" / "agents" / "worker.py").is_file()
