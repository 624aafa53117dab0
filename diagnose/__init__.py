"""livekit-doctor's engine: check API, registry, runner, renderers and CLI.

The engine knows nothing about LiveKit; the checks live in plugins.
"""

__version__ = "0.1.0"
