"""livekit-doctor's engine: check API, registry, runner, renderers and CLI.

The engine knows nothing about LiveKit; the checks live in plugins (the built-in ones in
`livekit_doctor.checks`). Plugin authors import from `livekit_doctor.plugin`.
"""

from livekit_doctor.product import Product

__version__ = "0.1.0"

PRODUCT = Product(
    name="livekit-doctor",
    prog="livekit-doctor",
    title="LiveKit doctor",
    version=__version__,
    check_group="livekit_doctor.checks",
    command_group="livekit_doctor.commands",
    snapshot_prefix="livekit-doctor-snapshot",
    cache_env="LIVEKIT_DOCTOR_CACHE",
)
