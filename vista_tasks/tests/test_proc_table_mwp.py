import re

import pytest
from vista.checks import check_task
from vista_tasks.procedural import TableMWPConfig, TableMWPTask
from vista_tasks.procedural.table_mwp import COUNT_QUESTIONS, PRICE_QUESTIONS
from vista_tasks.procedural.testing import generator_problems


def test_generator_contract():
    assert generator_problems(TableMWPTask(), seeds=range(6)) == []


def test_check_task_on_both_splits():
    task = TableMWPTask()
    for split in task.splits:
        assert [p for p in check_task(task, split, raise_on_error=False) if p.level == "error"] == []


@pytest.mark.parametrize("qtype", COUNT_QUESTIONS + PRICE_QUESTIONS)
def test_every_question_type_follows_from_the_table(qtype):
    task = TableMWPTask(TableMWPConfig(difficulty=2, question_types=(qtype,)))
    for example in task.load("test", seed=11, limit=3):
        table, query = example.metadata["table"], example.metadata["query"]
        numbers = [row[1] for row in table["rows"]]
        names = [row[0] for row in table["rows"]]
        assert query["type"] == qtype
        if "expression" in query:
            # every number the computation uses is in the table (or in the question: budgets, quantities)
            for token in re.findall(r"\d+(?:\.\d+)?", query["expression"]):
                assert float(token) in numbers or token in example.question or int(float(token)) == len(numbers)
            value = eval(query["expression"], {"__builtins__": {}})
            if example.answer_type == "boolean":
                budget = float(re.search(r"\$(\d+\.\d\d)", example.question).group(1))
                assert example.answer == ("Yes" if budget >= round(value, 2) else "No")
            else:
                assert task.score(str(round(value, 2)), example) == 1.0
        elif qtype == "median":
            assert float(example.answer) == sorted(numbers)[len(numbers) // 2]
        else:
            pick = max if qtype == "argmax" else min
            assert example.answer == names[numbers.index(pick(numbers))]


def test_price_tables_are_rendered_with_dollar_signs_and_counts_without():
    prices = TableMWPTask(TableMWPConfig(question_types=("cost_two",))).generate(0)
    counts = TableMWPTask(TableMWPConfig(question_types=("sum_two",))).generate(0)
    assert prices.metadata["table"]["unit"] == "$" and "unit" not in counts.metadata["table"]
    assert prices.open_images()[0].height > 100


def test_bad_question_type_is_refused():
    with pytest.raises(ValueError, match="question_types"):
        TableMWPTask(TableMWPConfig(question_types=("integral",)))


def test_many_seeds_generate_consistent_problems():
    for difficulty in (0, 1, 2):
        task = TableMWPTask(TableMWPConfig(difficulty=difficulty))
        for example in task.load("train", seed=500, limit=40):
            assert task.score(task.oracle(example).answer, example) == 1.0
            if example.answer_type == "float":
                assert float(example.answer) >= 0
