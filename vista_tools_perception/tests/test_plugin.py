"""The plugin registers the catalogue's perception tools, and every tool keeps the Tool contract."""

import re
from pathlib import Path

import pytest
from vista.checks import check_tool
from vista.testing import registered_plugin
from vista_tools_perception.detection import DetectObjects
from vista_tools_perception.segmentation import Segment

import vista_tools_perception

CATALOGUE = Path(__file__).resolve().parents[2] / "docs" / "tool-catalogue.md"


def catalogue_rows() -> dict[str, list[str]]:
    """name -> argument names, from the perception table of docs/tool-catalogue.md (the contract)."""
    text = CATALOGUE.read_text()
    section = text[text.index("## perception"):text.index("## chart")]
    rows = {}
    for match in re.finditer(r"^\| `(\w+)` \| (.*?) \|", section, re.M):
        rows[match.group(1)] = re.findall(r"`(\w+)`", match.group(2))
    return rows


def test_the_plugin_registers_the_catalogue_tools_with_their_argument_names():
    with registered_plugin(vista_tools_perception, "perception") as registry:
        tools = {name: tool for name, tool in registry.tools.items() if tool.family == "perception"}
    catalogue = catalogue_rows()
    assert sorted(tools) == sorted(catalogue)
    for name, arguments in catalogue.items():
        assert set(arguments) <= set(tools[name].argument_schema()["properties"]), name


@pytest.mark.parametrize("tool_class", vista_tools_perception.TOOLS, ids=lambda c: c.name)
def test_every_tool_passes_check_tool(tool_class, tiny_sam, tiny_grounding_dino):
    weights = {Segment: tiny_sam, DetectObjects: tiny_grounding_dino}.get(tool_class)
    tool = tool_class(weights=str(weights)) if weights else tool_class()
    assert not [p for p in check_tool(tool) if p.level == "error"]
