import pytest
import vista
from vista.checks import check_task
from vista_example_plugin import ColorHistogram, DominantColor, DominantColorConfig


def test_keeps_the_task_contract():
    assert check_task(DominantColor(), n=5) == []


def test_same_seed_same_items_and_splits_differ():
    task = DominantColor()
    first = [(e.question, e.choices, e.answer, e.images[0].tobytes()) for e in task.load("train", seed=7, limit=4)]
    again = [(e.question, e.choices, e.answer, e.images[0].tobytes()) for e in task.load("train", seed=7, limit=4)]
    test = [(e.question, e.choices, e.answer, e.images[0].tobytes()) for e in task.load("test", seed=7, limit=4)]
    assert first == again and first != test


def test_every_answer_wins_by_the_margin():
    task = DominantColor()
    for example in task.load("train", seed=0, limit=100):
        areas = sorted(example.metadata["areas"].values(), reverse=True)
        assert areas[0] >= task.config.margin * areas[1]
        assert example.choices[ord(example.answer) - ord("A")] == example.metadata["color"]
    kinds = {e.metadata["region"] is None for e in task.load("train", seed=0, limit=40)}
    assert kinds == {True, False}, "both question kinds should occur"


def test_score_accepts_letters_and_colour_names_only_when_unambiguous():
    example = next(DominantColor().load("test", seed=1, limit=1))
    color, letter = example.metadata["color"], example.answer
    other = next(c for c in example.choices if c != color)
    task = DominantColor()
    assert [task.score(p, example) for p in (letter, f"({letter})", f"{letter}.", color, f"It is {color.upper()}.")] \
        == [1.0] * 5
    wrong_letter = "A" if letter != "A" else "B"
    assert [task.score(p, example) for p in (wrong_letter, other, f"{color} or {other}", "", None)] == [0.0] * 5


def test_the_oracle_call_through_the_tool_gives_the_answer():
    task = DominantColor()
    tools = {"color_histogram": ColorHistogram()}
    for example in task.load("test", seed=100, limit=25):
        step = task.oracle(example).steps[0]
        result = vista.call_tool(step.tool, step.arguments, example.images, tools=tools)
        assert result.ok, result.text
        assert result.data.colors[0].name == example.metadata["color"]
        assert task.score(task.oracle(example).answer, example) == 1.0  # the letter of the colour the tool put first


@pytest.mark.parametrize("config, match", [
    (DominantColorConfig(width=20), "width and height"),
    (DominantColorConfig(min_shapes=1), "min_shapes"),
    (DominantColorConfig(max_shapes=20), "max_shapes"),
    (DominantColorConfig(margin=1.0), "tie"),
    (DominantColorConfig(region_probability=2), "probability"),
])
def test_invalid_config_says_what_is_wrong(config, match):
    with pytest.raises(ValueError, match=match):
        DominantColor(config)


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="no split 'val'"):
        next(DominantColor().load("val"))
