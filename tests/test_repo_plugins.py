"""Every distribution of the repository is a plugin that registers what it should, seen through the `vista` CLI."""

import json
import subprocess
import sys
from pathlib import Path

VISTA = str(Path(sys.executable).parent / "vista")
DISTRIBUTIONS = {
    "builtin": ("vista-core", {"rewards"}),
    "tasks": ("vista-tasks", {"tasks"}),
    "perception": ("vista-tools-perception", {"tools"}),
    "chart": ("vista-tools-chart", {"tools"}),
    "diagram": ("vista-tools-diagram", {"tools"}),
    "math": ("vista-tools-math", {"tools"}),
    "trainer": ("vista-trainer", set()),
}


def vista(*args: str) -> object:
    proc = subprocess.run([VISTA, *args, "--json"], capture_output=True, text=True, timeout=300)  # machine output
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_vista_plugins_lists_every_distribution_with_what_it_registers():
    listing = vista("plugins")
    assert listing["failures"] == []
    plugins = {p["name"]: p for p in listing["plugins"]}
    for name, (distribution, kinds) in DISTRIBUTIONS.items():
        assert plugins[name]["distribution"] == distribution
        for kind in kinds:
            assert plugins[name][kind], f"plugin {name} registers no {kind}"


def test_the_26_standard_tools_in_four_families():
    tools = vista("tools")
    families = {}
    for tool in tools:
        families.setdefault(tool["family"], []).append(tool["name"])
        assert tool["schema"]["additionalProperties"] is False
    standard = {f: names for f, names in families.items() if f in ("perception", "chart", "diagram", "math")}
    assert sum(len(v) for v in standard.values()) == 26, standard
    catalogue = (Path(__file__).resolve().parents[1] / "docs" / "tool-catalogue.md").read_text()
    for names in standard.values():
        for name in names:
            assert f"`{name}`" in catalogue, f"{name} is missing from docs/tool-catalogue.md"


def test_vista_tasks_lists_every_task_with_category_splits_and_data_status():
    tasks = {t["name"]: t for t in vista("tasks")}
    assert len([t for t in tasks.values() if not t["procedural"]]) == 21
    assert all(t["category"] and t["splits"] for t in tasks.values())
    assert all(t["data_present"] for t in tasks.values() if t["procedural"])
    missing = [t for t in tasks.values() if not t["data_present"]]
    assert all(t["how_to_get"] for t in missing)


def test_plugin_selection_loads_only_the_named_ones():
    listing = vista("--plugins", "math", "plugins")
    assert {p["name"] for p in listing["plugins"]} == {"builtin", "math"}


def test_every_recommended_tool_exists():
    tools = {t["name"] for t in vista("tools")}
    registry_tasks = vista("tasks")
    import vista as core

    registry = core.load_plugins("all")
    unknown = {name: [t for t in task.recommended_tools if t not in tools]
               for name, task in registry.tasks.items() if name in {t["name"] for t in registry_tasks}}
    assert not {k: v for k, v in unknown.items() if v}, "recommended tools that no plugin registers"


# The standard tools that run no model, OCR, solver, child process or request to another server: the only ones the
# tool server may admit as light tools. Any other tool of the four families, a new one included, must be admitted as
# a model tool (`vista.Tool.blocking`): declared `blocking = True`, or batching or async.
LIGHT_STANDARD_TOOLS = {"crop", "zoom", "rotate", "geometry_text_to_cdl"}


def test_model_backed_standard_tools_are_admitted_as_model_tools():
    import vista as core
    from vista.serve.config import ServeConfig
    from vista.serve.service import ToolService

    registry = core.load_plugins("all")
    standard = {name: tool for name, tool in registry.tools.items()
                if tool.family in ("perception", "chart", "diagram", "math")}
    # a model tool is admitted `concurrency` + `max_queue` calls at once, a light tool `light_capacity`
    service = ToolService(standard, ServeConfig(concurrency=1, max_queue=2, light_capacity=1000))
    try:
        places = {name: service.admission.capacity(name) for name in standard}
    finally:
        service.close()
    assert LIGHT_STANDARD_TOOLS <= standard.keys(), "a light standard tool was renamed or removed: update the list"
    light = {name for name, count in places.items() if count == 1000}
    model = {name for name, count in places.items() if count == 3}
    assert light | model == standard.keys(), places
    assert not light - LIGHT_STANDARD_TOOLS, (
        f"admitted as light tools: {sorted(light - LIGHT_STANDARD_TOOLS)}; a tool that runs a model, OCR, a solver, "
        "a child process or a request to another server declares `blocking = True` (or add it to "
        "LIGHT_STANDARD_TOOLS if it does none of these)")
    assert not model & LIGHT_STANDARD_TOOLS, f"admitted as model tools: {sorted(model & LIGHT_STANDARD_TOOLS)}"
