"""`livekit-doctor cache dir|info|clear`: where answers are kept between runs, how much, and emptying it.

The parts are what the doctor writes there itself: the SDK probe's answers, the code scan's
per-file results and the replayed `--help`/`list` output. Anything else in the directory (a
LiveKit server or SDK downloaded by the repository's scripts and tests) is left alone.
"""

from __future__ import annotations

from pathlib import Path

import click

from livekit_doctor.plugin import cache_sizes, clear_cache, make_context

PARTS = {
    "sdk-probe": "the SDK probe's answers, per interpreter and project",
    "scan-results": "the code scan's per-file results, per scanned directory",
    "cli-output": "--help and list output",
}


def _root() -> Path:
    root = make_context({}).cache_dir
    assert root is not None  # make_context without no_cache always names one
    return root


@click.group("cache")
def cache() -> None:
    """Show or empty what earlier runs kept ($LIVEKIT_DOCTOR_CACHE, default ~/.cache/livekit-doctor)."""


@cache.command("dir")
def cache_dir() -> None:
    """Print the cache directory."""
    click.echo(str(_root()))


@cache.command("info")
def cache_info() -> None:
    """The cache directory and, per part, its entries and size."""
    root = _root()
    click.echo(str(root))
    for part, (entries, size) in cache_sizes(root, PARTS).items():
        click.echo(f"  {part:<13} {entries:>4} entries {size / 1024:>9.1f} KiB  {PARTS[part]}")


@cache.command("clear")
def cache_clear() -> None:
    """Remove every kept answer: the next run probes the SDK and scans every file again."""
    root = _root()
    removed = clear_cache(root, PARTS)
    click.echo(f"removed {removed} entr{'y' if removed == 1 else 'ies'} from {root}")
