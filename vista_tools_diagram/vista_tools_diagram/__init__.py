"""vista-gym diagram tools: CDL formalisation of geometry problems (text, diagram, DiagramFormalizer model) and an
Inter-GPS-style symbolic solver."""

from __future__ import annotations

import vista

from .tools import TOOLS


@vista.hookimpl
def register_tools(register) -> None:
    for tool in TOOLS:
        register(tool())
