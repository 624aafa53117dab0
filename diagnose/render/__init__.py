"""Renderers turn a finished run into text; they never see a check, only Results."""

from __future__ import annotations

from typing import Callable

from diagnose.render.document import RunDocument

Renderer = Callable[[RunDocument], str]


def renderer(name: str) -> Renderer:
    # Imported on demand: each renderer only costs start-up time when it is used.
    if name == "text":
        from diagnose.render.text import render
    elif name == "json":
        from diagnose.render.json_doc import render
    else:
        raise ValueError(f"unknown format: {name}")
    return render


FORMATS = ("text", "json")
