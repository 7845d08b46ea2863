import pytest
import vista
import vista_example_plugin
from vista.testing import registered_plugin
from vista.trajectory import StepRecord, Trajectory
from vista_example_plugin import ConciseCorrectness, DominantColor

TASK = DominantColor()
EXAMPLE = next(TASK.load("test", seed=0, limit=1))


def trajectory(*actions: str) -> Trajectory:
    steps = [StepRecord(index=i + 1, action=a, answer=a.split("<answer>")[1].split("</answer>")[0]
                        if "<answer>" in a else None) for i, a in enumerate(actions)]
    return Trajectory(id="t", task=TASK.name, example_id=EXAMPLE.id, steps=steps)


def answer(text: str, padding: int = 0) -> str:
    return f"<think>{'x' * padding}</think><answer>{text}</answer>"


def test_short_correct_answer_gets_the_full_score():
    result = ConciseCorrectness().compute(trajectory(answer(EXAMPLE.answer)), EXAMPLE, TASK)
    assert result.total == 1.0 and result.components == {"correctness": 1.0, "length_penalty": 0.0}


def test_length_past_the_budget_is_penalised_linearly_up_to_the_cap():
    reward = ConciseCorrectness(budget_chars=100, max_penalty=0.5)
    base = len(answer(EXAMPLE.answer))
    half_over = reward.compute(trajectory(answer(EXAMPLE.answer, padding=150 - base)), EXAMPLE, TASK)
    assert half_over.components["length_penalty"] == pytest.approx(0.25) and half_over.total == pytest.approx(0.75)
    far_over = reward.compute(trajectory(answer(EXAMPLE.answer, padding=10_000)), EXAMPLE, TASK)
    assert far_over.total == pytest.approx(0.5)


def test_wrong_or_missing_answers_get_nothing_however_short():
    wrong = "A" if EXAMPLE.answer != "A" else "B"
    reward = ConciseCorrectness()
    assert reward.compute(trajectory(answer(wrong)), EXAMPLE, TASK).total == 0.0
    assert reward.compute(trajectory("<think>hm</think>"), EXAMPLE, TASK).total == 0.0
    assert reward.compute(trajectory(), EXAMPLE, TASK).total == 0.0


@pytest.mark.parametrize("kwargs, match", [
    ({"budget_chars": 0}, "budget_chars"), ({"max_penalty": 1.5}, "max_penalty"),
])
def test_invalid_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConciseCorrectness(**kwargs)


def test_the_hooks_register_all_three_objects():
    with registered_plugin(vista_example_plugin, "example_under_test") as registry:
        assert registry.plugins["example_under_test"].tools == ["color_histogram"]
        assert isinstance(registry.task("dominant_color-v0"), DominantColor)
        assert isinstance(registry.reward("concise_correctness"), vista.Reward)
