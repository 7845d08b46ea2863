import pytest
from vista_tasks.benchmarks import TabMWP
from vista_tasks.benchmarks.tabmwp import normalize_tabmwp_answer


def test_loads_all_1000_test1k_items_with_their_table_images(shared_data, fx):
    examples = list(TabMWP().load("test1k", shared_data / "tabmwp"))
    assert len(examples) == 1000
    assert sum(fx.verify_images(e) for e in examples) == 1000
    assert all(e.metadata["table_for_pd"] for e in examples)


def test_every_gold_answer_scores_as_a_model_writes_it(shared_data):
    task = TabMWP()
    for example in task.load("test1k", shared_data / "tabmwp"):
        unit = example.metadata["unit"] or ""
        if example.choices:
            letter = "ABCDEFGH"[example.choices.index(example.answer)]
            assert task.score(f"The answer is ({letter}).", example) == 1.0, example.id
            others = [c for c in example.choices if c != example.answer]
            assert task.score(others[0], example) == 0.0, example.id
        else:
            written = f"${example.answer}" if unit == "$" else f"{example.answer} {unit}"
            assert task.score(f"The answer is {written}.", example) == 1.0, example.id
            assert task.score(f"The answer is {example.answer}1", example) == 0.0, example.id


@pytest.mark.parametrize("text, unit, expected", [
    ("3/10", None, "0.3"), ("0.30", None, "0.3"), ("$3.30", "$", "3.3"), ("4,656", None, "4656"),
    ("7 apples", "apples", "7"), ("Champ", None, "Champ"), ("-3", None, "-3"), ("1.", None, "1"),
])
def test_normalisation_follows_promptpg(text, unit, expected):
    assert normalize_tabmwp_answer(text, unit) == expected


def test_check_task_on_the_real_sample(shared_data, fx):
    fx.assert_task_checks(TabMWP(), shared_data / "tabmwp", "test1k")


def test_a_missing_split_says_where_to_get_it(shared_data):
    from vista_tasks.benchmarks import DatasetMissingError

    with pytest.raises(DatasetMissingError, match="PromptPG"):
        TabMWP().load("train", shared_data / "tabmwp")
