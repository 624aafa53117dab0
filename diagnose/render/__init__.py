"""Renderers turn a finished run into text; they never see a check, only Results."""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from livekit_doctor.render.document import RunDocument

Renderer = Callable[[RunDocument], str]

# format name -> module holding `render(doc)`; imported on demand so unused formats cost no start-up
MODULES = {"text": "text", "json": "json_doc", "markdown": "markdown", "junit": "junit", "github": "github"}
FORMATS = tuple(MODULES)


def renderer(name: str) -> Renderer:
    if name not in MODULES:
        raise ValueError(f"unknown format: {name}")
    return import_module(f"livekit_doctor.render.{MODULES[name]}").render
