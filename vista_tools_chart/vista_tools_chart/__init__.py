"""vista-gym chart tools: chart to table (classical parser, DePlot, UniChart, ChartMoE), to SVG, to a scene graph,
captioning, exact chart-QA analysis, and questions to a served chart model."""

from __future__ import annotations

import vista

from .tools import all_tools


@vista.hookimpl
def register_tools(register) -> None:
    for tool in all_tools():
        register(tool)
