import pytest
import vista
import vista_myplugin
from PIL import Image
from vista.checks import check_task, check_tool
from vista.testing import registered_plugin


@pytest.fixture
def registry():
    # the plugin alone with vista's built-ins, for this test only; the process-wide registry is restored after
    with registered_plugin(vista_myplugin, "myplugin") as registry:
        yield registry


def test_registers_its_tool_task_and_reward(registry):
    info = registry.plugins["myplugin"]
    assert (info.tools, info.tasks, info.rewards) == (
        ["myplugin_image_info"], ["myplugin_image_width"], ["myplugin_answer_given"])


def test_tool_and_task_keep_their_contracts(registry):
    assert check_tool(registry.tool("myplugin_image_info")) == []
    assert check_task(registry.task("myplugin_image_width")) == []


def test_tool_runs_and_bad_calls_are_classified(registry):
    image = Image.new("RGB", (40, 30))
    ok = vista.call_tool("myplugin_image_info", {"scale": 2}, [image], tools=registry.tools)
    assert ok.ok and (ok.data["width"], ok.data["height"]) == (20, 15)
    # E2 unknown argument, E3 outside the schema's range, E4 valid by schema but too large for this image
    for error_class, arguments in {"E2": {"size": 2}, "E3": {"scale": 0}, "E4": {"scale": 50}}.items():
        result = vista.call_tool("myplugin_image_info", arguments, [image], tools=registry.tools)
        assert result.error.error_class.value == error_class, result.error


def test_oracle_solves_the_task_with_the_tool(registry):
    task = registry.task("myplugin_image_width")
    for example in task.load("test", seed=3, limit=5):
        step = task.oracle(example).steps[0]
        result = vista.call_tool(step.tool, step.arguments, example.images, tools=registry.tools)
        assert task.score(str(result.data["width"]), example) == 1.0


def test_reward_pays_for_the_right_answer(registry):
    from vista.trajectory import StepRecord, Trajectory

    task, reward = registry.task("myplugin_image_width"), registry.reward("myplugin_answer_given")
    example = next(task.load("test", limit=1))

    def total(answer):
        steps = [StepRecord(index=1, action=f"<answer>{answer}</answer>", answer=answer)] if answer else []
        return reward.compute(Trajectory(id="t", task=task.name, example_id=example.id, steps=steps), example,
                              task).total

    assert (total(example.answer), total("0"), total(None)) == (1.0, 0.5, 0.0)
