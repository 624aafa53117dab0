"""livekit-doctor's built-in checks: one module per area (registered together by `builtin`),
the code scan, the subcommands, and `plumbing`, the LiveKit wing every check shares."""
