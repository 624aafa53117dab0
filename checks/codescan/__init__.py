"""The code scan: LiveKit SDK misuse in a project's own Python files, found with `ast`.

`files` walks and parses the project, `knowledge` turns the installed SDK's shape into what
is async and what exists, `analysis` walks each module once and yields `Finding`s, `rules`
names and documents the rule IDs.
"""
