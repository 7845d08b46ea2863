import types

import pytest
import sample_plugin
import vista
from vista.plugins import PluginLoadError, load_plugins, parse_selection
from vista.testing import registered_plugin


def plugin_module(name, **hooks):
    module = types.ModuleType(name)
    for hook_name, fn in hooks.items():
        setattr(module, hook_name, fn)
    return module


def tools_hook(*tools):
    @vista.hookimpl
    def register_tools(register):
        for tool in tools:
            register(tool)
    return register_tools


def test_builtin_reward_is_an_ordinary_plugin():
    registry = load_plugins("none")
    assert registry.plugins["builtin"].builtin
    assert registry.plugins["builtin"].rewards == ["hierarchical"]
    assert registry.owners[("reward", "hierarchical")] == "builtin"


def test_registered_plugin_fixture_exposes_tools(registry):
    assert set(registry.tools) >= {"crop", "scale"}
    assert registry.plugins["sample"].tools == ["crop", "scale", "broken_output", "crashing"]
    assert vista.get_tools()["crop"] is registry.tools["crop"]


def test_duplicate_name_names_both_plugins():
    other = plugin_module("other", register_tools=tools_hook(sample_plugin.Scale()))
    registry = load_plugins("none", plugins=[("sample", sample_plugin), ("other", other)])
    assert "scale" in registry.tools and registry.owners[("tool", "scale")] == "sample"
    [failure] = registry.failures
    assert failure.name == "other" and "'sample'" in failure.error and "'other'" in failure.error
    with pytest.raises(PluginLoadError, match="both plugin 'sample' and plugin 'other'"):
        load_plugins("none", strict=True, plugins=[("sample", sample_plugin), ("other", other)])


def test_invalid_argument_schema_names_the_tool():
    class Open(vista.Tool):
        name = "open_schema"
        family = "math"
        description = "arguments not closed"

        class Arguments(vista.ToolArguments.__base__):  # pydantic BaseModel without extra='forbid'
            x: int = 0

    plugin = plugin_module("bad", register_tools=tools_hook(Open()))
    registry = load_plugins("none", plugins=[("bad", plugin)])
    [failure] = registry.failures
    assert "open_schema" in failure.error and "additionalProperties" in failure.error


def test_failing_plugin_does_not_stop_the_others():
    @vista.hookimpl
    def register_tools(register):
        raise ImportError("needs a library that is not installed")

    registry = load_plugins("none", plugins=[("broken", plugin_module("broken", register_tools=register_tools)),
                                             ("sample", sample_plugin)])
    assert "crop" in registry.tools
    assert [f.name for f in registry.failures] == ["broken"] and "ImportError" in registry.failures[0].error


def test_misspelled_hook_fails_at_load_with_a_suggestion():
    @vista.hookimpl
    def register_tool(register):
        pass

    registry = load_plugins("none", plugins=[("typo", plugin_module("typo", register_tool=register_tool))])
    [failure] = registry.failures
    assert failure.name == "typo" and "Did you mean 'register_tools'?" in failure.error
    assert "typo" not in registry.plugins


def test_undecorated_hook_is_reported():
    def register_tools(register):
        pass

    registry = load_plugins("none", plugins=[("plain", plugin_module("plain", register_tools=register_tools))])
    assert "not decorated with @vista.hookimpl" in registry.failures[0].error


def test_selection_parsing(monkeypatch):
    assert parse_selection("all") is None and parse_selection("chart, math") == {"chart", "math"}
    assert parse_selection("none") == set()
    monkeypatch.setenv("VISTA_PLUGINS", "math")
    assert parse_selection(None) == {"math"}


def test_unknown_selection_is_an_error_with_a_suggestion():
    with pytest.raises(PluginLoadError, match="not installed"):
        load_plugins("no_such_plugin_xyz")


def test_registry_lookup_suggests(registry):
    with pytest.raises(KeyError, match="Did you mean 'scale'"):
        registry.tool("scal")


def test_registered_plugin_restores_previous_registry():
    before = load_plugins("none")
    with registered_plugin(sample_plugin, "sample"):
        assert "crop" in vista.get_tools()
    assert vista.get_registry() is before


def test_blocking_is_declared_true_false_or_not_at_all():
    class Vague(sample_plugin.Scale):
        name = "vague"
        blocking = "no"

    class QuickBatches(sample_plugin.Scale):
        name = "quick_batches"
        blocking = False

        def run_batch(self, batch):
            return [self.run(args, ctx) for args, ctx in batch]

    class QuickRemote(sample_plugin.Scale):
        name = "quick_remote"
        blocking = False

        async def arun(self, args, ctx):
            return self.run(args, ctx)

    class Model(sample_plugin.Scale):
        name = "model"
        blocking = True

    class Light(sample_plugin.Scale):
        name = "light"
        blocking = False

    for tool, words in [(Vague(), "blocking must be True (a model tool), False (a light tool"),
                        (QuickBatches(), "implements run_batch"), (QuickRemote(), "implements arun")]:
        registry = load_plugins("none", plugins=[("acme", plugin_module("acme", register_tools=tools_hook(tool)))])
        [failure] = registry.failures
        assert failure.name == "acme" and f"tool '{tool.name}'" in failure.error and words in failure.error
    registry = load_plugins("none", plugins=[("acme", plugin_module("acme", register_tools=tools_hook(
        Model(), Light(), sample_plugin.Scale())))])
    assert not registry.failures and {"model", "light", "scale"} <= set(registry.tools)
