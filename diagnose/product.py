"""The product the engine runs as: its names, version and entry-point groups, in one descriptor.

The engine never spells its own name: the CLI, the registry, the pytest plugin and the renderers
take this descriptor, so the same engine could carry another tool's checks.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Product:
    name: str  # the distribution, and how reports name the tool
    prog: str  # the command users type
    title: str  # human title of the report ("LiveKit doctor")
    version: str
    check_group: str  # entry-point group of check plugins
    command_group: str  # entry-point group of extra subcommands
    snapshot_prefix: str  # default snapshot file name: <prefix>-<UTC time>.md
    cache_env: str = ""  # variable naming the cache directory (default ~/.cache/<name>)

    def is_builtin(self, distribution: str | None) -> bool:
        """Plugins shipped by this distribution load first and their graph errors are fatal."""
        return distribution is not None and distribution.replace("_", "-").lower() == self.name
