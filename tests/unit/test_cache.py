"""Entries kept between runs go stale when what they were computed from changes; prune and clear; the status line."""

import io
import os
import time

from livekit_doctor import PRODUCT
from livekit_doctor.cache import cache_root, cache_sizes, clear_cache, prune, read_entry, write_entry
from livekit_doctor.context import make_context
from livekit_doctor.status import StatusLine


def site(tmp_path):
    """A directory laid out like site-packages, with one installed distribution."""
    root = tmp_path / "site-packages"
    (root / "demo-1.0.dist-info").mkdir(parents=True)
    (root / "demo-1.0.dist-info" / "METADATA").write_text("Name: demo\nVersion: 1.0\n")
    return root


def test_an_entry_is_read_back_while_nothing_changed(tmp_path):
    sites, watched = site(tmp_path), tmp_path / "python"
    watched.write_text("#!")
    write_entry(tmp_path / "c" / "e.json", ["key", 1], {"answer": 42}, [str(watched)], [str(sites)])
    assert read_entry(tmp_path / "c" / "e.json", ["key", 1]) == {"answer": 42}
    assert read_entry(tmp_path / "c" / "e.json", ["key", 2]) is None  # another key


def test_installing_upgrading_or_rewriting_metadata_invalidates(tmp_path):
    sites = site(tmp_path)
    entry = tmp_path / "e.json"

    def kept():
        write_entry(entry, "k", "v", [], [str(sites)])
        assert read_entry(entry, "k") == "v"

    kept()
    (sites / "other-2.0.dist-info").mkdir()  # pip install other
    assert read_entry(entry, "k") is None
    kept()
    (sites / "demo-1.0.dist-info").rename(sites / "demo-1.1.dist-info")  # an upgrade renames it
    assert read_entry(entry, "k") is None
    kept()
    metadata = sites / "demo-1.1.dist-info" / "METADATA"
    stat = metadata.stat()
    os.utime(metadata, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # reinstalled in place
    assert read_entry(entry, "k") is None
    kept()
    (sites / "extra.pth").write_text("/somewhere\n")  # a new path entry
    assert read_entry(entry, "k") is None


def test_an_edited_or_removed_file_invalidates(tmp_path):
    watched = tmp_path / "livekit.py"
    watched.write_text("x = 1\n")
    write_entry(tmp_path / "e.json", "k", "v", [str(watched)])
    watched.write_text("x = 22\n")
    assert read_entry(tmp_path / "e.json", "k") is None
    write_entry(tmp_path / "e.json", "k", "v", [str(watched)])
    watched.unlink()
    assert read_entry(tmp_path / "e.json", "k") is None


def test_a_damaged_entry_is_a_miss(tmp_path):
    (tmp_path / "e.json").write_text("{not json")
    assert read_entry(tmp_path / "e.json", "k") is None


def test_prune_drops_old_entries_and_the_oldest_beyond_the_limit(tmp_path):
    for n in range(5):
        (tmp_path / f"{n}.json").write_text("{}")
        os.utime(tmp_path / f"{n}.json", (time.time() - n * 10, time.time() - n * 10))
    old = time.time() - 40 * 86400
    os.utime(tmp_path / "4.json", (old, old))
    (tmp_path / "keep.txt").write_text("not an entry")
    prune(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0.json", "1.json", "2.json", "keep.txt"]


def test_clear_removes_only_the_named_parts(tmp_path):
    for part in ("sdk-probe", "scan-results"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "a.json").write_text("{}")
    (tmp_path / "livekit-server-v1").mkdir()
    (tmp_path / "livekit-server-v1" / "server.json").write_text("{}")
    assert cache_sizes(tmp_path, ["sdk-probe"]) == {"sdk-probe": (1, 2)}
    assert clear_cache(tmp_path, ["sdk-probe", "scan-results", "cli-output"]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["livekit-server-v1"]


def test_the_cache_directory_follows_the_variable_and_no_cache_keeps_none(tmp_path):
    assert cache_root(PRODUCT, {"LIVEKIT_DOCTOR_CACHE": str(tmp_path)}) == tmp_path
    assert cache_root(PRODUCT, {}) == __import__("pathlib").Path.home() / ".cache" / "livekit-doctor"
    assert make_context({"project": str(tmp_path)}, env={"LIVEKIT_DOCTOR_CACHE": str(tmp_path)}).cache_dir == tmp_path
    assert make_context({"project": str(tmp_path), "no_cache": True}).cache_dir is None


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_status_line_updates_in_place_on_a_terminal_only():
    tty = Terminal()
    line = StatusLine(tty, env={})
    line.show("scanning 1/3")
    line.show("scanning 2/3", force=True)
    line.print("LK301 pass")
    line.clear()
    assert tty.getvalue() == ("\r\x1b[Kscanning 1/3" "\r\x1b[Kscanning 2/3" "\r\x1b[KLK301 pass\n" "\r\x1b[Kscanning 2/3"
                              "\r\x1b[K")
    for stream, env in ((io.StringIO(), {}), (Terminal(), {"CI": "true"}), (Terminal(), {"TERM": "dumb"})):
        quiet = StatusLine(stream, env=env)
        quiet.show("scanning", force=True)
        quiet.print("LK301 pass")
        quiet.clear()
        assert stream.getvalue() == "LK301 pass\n"
