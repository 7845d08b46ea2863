"""The plugin-authoring kit: the template, copied and renamed, installs and is discovered; the example plugin
(installed into the test environment) is discovered, keeps every contract, and its tool, task and reward work
through the environment; `check_plugin` finds what is wrong with a plugin and says how to fix it."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import sys
from pathlib import Path

import gymnasium
import pytest
import vista
from vista.checks import check_plugin
from vista.testing import registered_plugin

sys.path.insert(0, str(Path(__file__).parent))
from test_third_party_plugin import pip_install_target, vista_cli  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
TEMPLATE = REPO / "plugins" / "template"


# ---- the template -----------------------------------------------------------------------------------------------

def copy_and_rename(destination: Path, name: str) -> Path:
    """What the template's README tells an author to do: copy, replace `myplugin` everywhere, rename the package."""
    shutil.copytree(TEMPLATE, destination,
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".pytest_cache"))
    for path in destination.rglob("*"):
        if path.is_file() and "myplugin" in path.read_text():
            path.write_text(path.read_text().replace("myplugin", name))
    (destination / "vista_myplugin").rename(destination / f"vista_{name}")
    return destination


def test_the_template_copied_and_renamed_installs_and_is_discovered(tmp_path):
    source = copy_and_rename(tmp_path / "vista-acmecharts", "acmecharts")
    assert not [p for p in source.rglob("*") if "myplugin" in p.name or (p.is_file() and "myplugin" in p.read_text())]
    site = tmp_path / "site"
    pip_install_target([source], site)
    listing = vista_cli("--plugins", "all", "plugins", "--json", site=site)
    plugin = next(p for p in json.loads(listing.stdout)["plugins"] if p["name"] == "acmecharts")
    assert plugin["distribution"] == "vista-acmecharts" and plugin["module"] == "vista_acmecharts"
    assert (plugin["tools"], plugin["tasks"], plugin["rewards"]) == (
        ["acmecharts_image_info"], ["acmecharts_image_width"], ["acmecharts_answer_given"])


# ---- the example plugin, installed ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_entry_point() -> importlib.metadata.EntryPoint:
    found = importlib.metadata.entry_points(group="vista", name="example")
    if not found:
        pytest.fail("the example plugin is not installed; run "
                    "`pip install -c constraints.txt -e plugins/example` (CI does this before the tests)")
    return next(iter(found))


@pytest.fixture
def registry(example_entry_point):
    with registered_plugin(example_entry_point.load(), example_entry_point.name) as registry:
        yield registry


def test_the_example_plugin_is_discovered_through_its_entry_point(example_entry_point):
    assert example_entry_point.dist.name == "vista-example-plugin"
    assert example_entry_point.value == "vista_example_plugin"


def test_vista_check_plugin_example_reports_no_problems():
    completed = vista_cli("check-plugin", "example", "--json")
    assert completed.returncode == 0 and json.loads(completed.stdout) == [], completed.stdout + completed.stderr


def test_the_example_plugin_registers_its_tool_task_and_reward(registry):
    info = registry.plugins["example"]
    assert (info.tools, info.tasks, info.rewards) == (["color_histogram"], ["dominant_color"], ["concise_correctness"])


# ---- the example plugin through the environment -----------------------------------------------------------------

def call(name: str, **arguments) -> str:
    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def tool_using_policy(obs: dict) -> str:
    """A scripted policy that reads only the observation: measure the asked-about region, then pick the option
    naming the colour with the largest share."""
    user = obs["messages"][1]["content"][-1]["text"]
    last = obs["messages"][-1]
    if obs["turn"] == 0 or "error" in last["content"][0]["text"]:
        corners = [int(n) for pair in re.findall(r"\((\d+), (\d+)\)", user) for n in pair]
        arguments = {"ignore": ["white"]} | ({"bbox": corners} if corners else {})
        return "<think>Measure the colours, leaving out the background.</think>" + call("color_histogram", **arguments)
    top = re.search(r"(\w+) [\d.]+%", last["content"][0]["text"]).group(1)
    letter = re.search(rf"\(([A-Z])\) {top}\b", user).group(1)
    return f"<think>{top} has the largest share.</think><answer>{letter}</answer>"


def test_an_episode_of_the_example_task_with_the_example_reward(registry):
    env = gymnasium.make("vista/dominant_color-v0", split="test", reward="concise_correctness")
    try:
        rewards, kinds = [], set()
        for seed in range(6):
            obs, _ = env.reset(seed=seed)
            kinds.add("box" if env.unwrapped.example.metadata["region"] else "picture")
            assert "color_histogram" in obs["messages"][0]["content"][0]["text"]  # its schema is in the prompt
            obs, reward, terminated, truncated, info = env.step(
                "<think>First try.</think>" + call("color_histogram", ignore=["grey"]))
            assert info["error_classes"] == ["E3"] and not (terminated or truncated) and reward == 0.0
            obs, _, _, _, info = env.step(tool_using_policy(obs))
            assert info["error_classes"] == [] and info["tool_calls"][0]["output_data"]["colors"]
            obs, reward, terminated, truncated, info = env.step(tool_using_policy(obs))
            assert terminated and info["correct"], info["trajectory"].final_answer
            assert info["reward_components"] == {"correctness": 1.0, "length_penalty": 0.0}
            rewards.append(reward)
        assert rewards == [1.0] * 6 and kinds == {"box", "picture"}
    finally:
        env.close()


@pytest.mark.parametrize("arguments, name, error_class, hint", [
    ({}, "color_histogrm", "E1", "Did you mean 'color_histogram'?"),
    ({"colour": ["white"]}, "color_histogram", "E2", "unknown argument 'colour'"),
    ({"top_k": "three"}, "color_histogram", "E3", "top_k"),
    ({"bbox": [0, 0, 5000, 10]}, "color_histogram", "E4", "outside the 192x144 image"),
])
def test_bad_calls_through_the_environment_are_classified_and_shown(registry, arguments, name, error_class, hint):
    env = vista.VistaEnv("dominant_color", split="test", reward="concise_correctness")
    env.reset(seed=0)
    obs, _, _, _, info = env.step("<think>Try.</think>" + call(name, **arguments))
    assert info["error_classes"] == [error_class]
    assert hint in obs["messages"][-1]["content"][0]["text"]
    *_, terminated, _, info = env.step("<think>Give up.</think><answer>A</answer>")
    assert terminated and [c.value for c in info["trajectory"].steps[0].error_classes] == [error_class]
    env.close()


# ---- check_plugin on plugins with faults ------------------------------------------------------------------------

class _Faulty:
    """A plugin with one fault of each kind check_plugin looks for beyond check_tool / check_task."""

    class NeedsAnswer(vista.Reward):
        name = "needs_answer"

        def compute(self, trajectory, example, task):
            return vista.RewardResult(total=float(trajectory.steps[-1].answer == example.answer))

    class PaysWrong(vista.Reward):
        name = "pays_wrong"

        def compute(self, trajectory, example, task):
            return vista.RewardResult(total=1.0 - float(task.score(trajectory.final_answer, example)))

    @vista.hookimpl
    def register_tools(self, register):
        from vista_example_plugin import ColorHistogram

        register(ColorHistogram())

    @vista.hookimpl
    def register_rewards(self, register):
        register(self.NeedsAnswer())
        register(self.PaysWrong())

    @vista.hookimpl
    def register_tasks(self, register):
        from vista_example_plugin import DominantColor

        class BadOracle(DominantColor):
            name = "bad_oracle"
            recommended_tools = ("color_histogram", "colour_histogram")

            def oracle(self, example):
                solution = super().oracle(example)
                solution.steps[0].arguments["ignore"] = "white"  # a string where a list is expected
                return solution

        register(BadOracle())


def test_check_plugin_finds_reward_and_oracle_faults():
    with registered_plugin(_Faulty(), "faulty", strict=False) as registry:
        problems = check_plugin("faulty", registry)
    messages = {p.message: p for p in problems}
    text = "\n".join(messages)
    assert "compute() raised IndexError" in text
    assert re.search(r"a wrong answer .* gets more reward", text)
    assert "oracle of example bad_oracle-train-0 makes an invalid call" in text
    assert "recommended tool 'colour_histogram' is not registered. Did you mean 'color_histogram'?" in text
    levels = {p.level for p in messages.values() if "more reward" in p.message or "recommended" in p.message}
    assert levels == {"warning"}


def test_check_plugin_reports_load_failures_with_a_fix():
    class Misspelt:
        @vista.hookimpl
        def register_tool(self, register):
            pass

    with registered_plugin(Misspelt(), "misspelt", strict=False) as registry:
        problems = check_plugin("misspelt", registry)
    assert [p.level for p in problems] == ["error"]
    assert "Did you mean 'register_tools'?" in problems[0].message and "@vista.hookimpl" in problems[0].fix


def test_check_plugin_on_an_unknown_name_lists_the_installed_plugins(registry):
    [problem] = check_plugin("exampel", registry)
    assert problem.level == "error" and "Did you mean 'example'?" in problem.message
    assert "builtin" in problem.message and "example" in problem.message


def test_check_plugin_warns_about_a_plugin_that_registers_nothing():
    class Empty:
        @vista.hookimpl
        def register_tools(self, register):
            pass

    with registered_plugin(Empty(), "empty") as registry:
        assert [p.message for p in check_plugin("empty", registry)] == ["registers no tool, task or reward"]


def test_check_plugin_runs_check_tool_on_each_tool(registry):
    from vista_example_plugin import ColorHistogram

    class Unchecked(ColorHistogram):
        name = "unchecked_histogram"
        examples = [{"top_k": 99}]

    class Plugin:
        @vista.hookimpl
        def register_tools(self, register):
            register(Unchecked())

    with registered_plugin(Plugin(), "unchecked") as registry:
        [problem] = check_plugin("unchecked", registry)
    assert problem.subject == "tool 'unchecked_histogram'" and "does not validate" in problem.message
