"""Subcommands the doctor adds to its command line (`token`, `scan`), built on the same wing."""
