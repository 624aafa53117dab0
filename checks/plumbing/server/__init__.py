"""The LiveKit server and its API: tokens, grants, refusals, the signal connection."""
