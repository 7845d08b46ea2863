import random

import pytest
from vista.checks import check_task
from vista_tasks.procedural import ChartBarConfig, ChartBarTask, ChartStyle
from vista_tasks.procedural.charts import random_chart_data, render_chart
from vista_tasks.procedural.testing import chart_answer_from_table, generator_problems


def test_generator_contract():
    assert generator_problems(ChartBarTask(), seeds=range(2)) == []


def test_check_task():
    # the test split is covered by generator_problems, which compares it with train
    problems = check_task(ChartBarTask(), "train", n=2, raise_on_error=False)
    assert [p for p in problems if p.level == "error"] == []


def test_answers_follow_from_the_table_behind_the_chart():
    task = ChartBarTask(ChartBarConfig(difficulty=2))
    for example in task.load("train", seed=100, limit=4):
        assert example.metadata["chart_type"] in ("bar_vertical", "bar_horizontal", "bar_grouped")
        assert task.score(chart_answer_from_table(example), example) == 1.0
        header, rows = example.metadata["table"]["header"], example.metadata["table"]["rows"]
        assert header[0] == "label" and all(len(row) == len(header) for row in rows)
        assert example.open_images()[0].size == (example.metadata["style"]["width"],
                                                 example.metadata["style"]["height"])


def test_a_fixed_kind_and_style_are_honoured():
    style = ChartStyle(font="DejaVu Serif", value_labels=True, gridlines=True, width=360, height=280)
    task = ChartBarTask(ChartBarConfig(kinds=("bar_grouped",), style=style, question_types=("sum",)))
    example = task.generate(3)
    assert example.metadata["chart_type"] == "bar_grouped"
    assert example.metadata["style"]["value_labels"] and example.metadata["style"]["font"] == "DejaVu Serif"
    assert len(example.metadata["table"]["header"]) >= 3   # grouped: two or more series
    assert example.metadata["query"]["type"] == "sum"
    assert example.open_images()[0].size == (360, 280)


def test_value_labels_change_the_picture():
    data = random_chart_data(random.Random(5), "bar_vertical", 1)
    plain = render_chart(data, "bar_vertical", ChartStyle(value_labels=False))
    labelled = render_chart(data, "bar_vertical", ChartStyle(value_labels=True))
    assert plain.size == labelled.size and plain.tobytes() != labelled.tobytes()


@pytest.mark.parametrize("config, message", [
    (ChartBarConfig(difficulty=3), "difficulty"),
    (ChartBarConfig(kinds=("pie",)), "kinds"),
    (ChartBarConfig(question_types=("median",)), "question_types"),
    (ChartBarConfig(style=ChartStyle(font="Comic Sans")), "font"),
])
def test_bad_configs_are_refused(config, message):
    with pytest.raises(ValueError, match=message):
        ChartBarTask(config)


@pytest.mark.parametrize("kind", ["bar_vertical", "bar_horizontal", "bar_grouped", "line", "pie"])
def test_chart_data_is_well_formed_for_many_seeds(kind):
    # data only (no rendering), so many seeds are cheap
    for difficulty in (0, 1, 2):
        for seed in range(150):
            data = random_chart_data(random.Random(seed), kind, difficulty)
            assert len(set(data.labels)) == len(data.labels) >= 3
            for column in data.values:
                assert len(column) == len(data.labels) and len(set(column)) == len(column)
                assert all(value > 0 for value in column)
