import pytest
from vista.checks import check_task
from vista_tasks.procedural import ChartLineConfig, ChartLineTask, ChartStyle
from vista_tasks.procedural.testing import chart_answer_from_table, generator_problems


def test_generator_contract():
    assert generator_problems(ChartLineTask(), seeds=range(2)) == []


def test_check_task():
    # the test split is covered by generator_problems, which compares it with train
    problems = check_task(ChartLineTask(), "train", n=2, raise_on_error=False)
    assert [p for p in problems if p.level == "error"] == []


def test_answers_follow_from_the_table_behind_the_chart():
    task = ChartLineTask(ChartLineConfig(difficulty=1))
    for example in task.load("test", seed=40, limit=4):
        assert example.metadata["chart_type"] == "line"
        assert task.score(chart_answer_from_table(example), example) == 1.0
        labels = [row[0] for row in example.metadata["table"]["rows"]]
        # x values are consecutive years or months, in order
        if labels[0].isdigit():
            assert [int(x) for x in labels] == list(range(int(labels[0]), int(labels[0]) + len(labels)))


def test_markers_follow_the_style():
    plain = ChartLineTask(ChartLineConfig(style=ChartStyle(markers=False))).generate(9)
    marked = ChartLineTask(ChartLineConfig(style=ChartStyle(markers=True))).generate(9)
    assert plain.metadata["table"] == marked.metadata["table"]
    assert plain.open_images()[0].tobytes() != marked.open_images()[0].tobytes()


def test_line_task_refuses_bar_kinds():
    with pytest.raises(ValueError, match="kinds"):
        ChartLineTask(ChartLineConfig(kinds=("bar_vertical",)))
