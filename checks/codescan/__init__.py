"""The code scan: LiveKit SDK misuse in a project's own Python files, found with `ast`.

`files` walks and parses the project, `knowledge` turns the installed SDK's shape into what
is async and what exists, `model` walks each module once and records `facts` in terms of
`kinds`, each module of `rules` turns those facts into one rule's findings, and `analysis`
runs them all with suppression applied; `scan` does this for a whole project.
"""
