"""Interpreters and the SDK probes run inside them."""
