import pytest
from vista.checks import check_task
from vista_tasks.procedural import ChartPieConfig, ChartPieTask
from vista_tasks.procedural.testing import chart_answer_from_table, generator_problems


def test_generator_contract():
    assert generator_problems(ChartPieTask(), seeds=range(2)) == []


def test_check_task():
    # the test split is covered by generator_problems, which compares it with train
    problems = check_task(ChartPieTask(), "train", n=2, raise_on_error=False)
    assert [p for p in problems if p.level == "error"] == []


@pytest.mark.parametrize("difficulty", [0, 2])
def test_shares_sum_to_100_and_answers_follow_from_them(difficulty):
    task = ChartPieTask(ChartPieConfig(difficulty=difficulty))
    for example in task.load("test", seed=7, limit=3):
        shares = [row[1] for row in example.metadata["table"]["rows"]]
        assert sum(shares) == pytest.approx(100)
        assert len(set(shares)) == len(shares)   # distinct, so argmax/argmin are unique
        assert task.score(chart_answer_from_table(example), example) == 1.0


def test_relaxed_accuracy_tolerates_reading_error_of_five_percent():
    task = ChartPieTask(ChartPieConfig(question_types=("lookup",)))
    example = task.generate(1)
    value = float(example.answer)
    assert task.score(str(value * 1.04), example) == 1.0
    assert task.score(str(value * 1.08), example) == 0.0
