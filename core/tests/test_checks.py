import pytest
import sample_plugin
import vista
from PIL import Image
from vista.checks import CheckFailed, check_task, check_tool


def test_check_tool_passes_a_good_tool():
    assert check_tool(sample_plugin.Crop()) == []


def test_check_tool_reports_missing_examples_and_a_bad_output():
    problems = check_tool(sample_plugin.Crashing(), raise_on_error=False)
    assert any("no example arguments" in p.message for p in problems)

    class Bad(sample_plugin.BrokenOutput):
        examples = [{}]

    with pytest.raises(CheckFailed, match="violates its schema"):
        check_tool(Bad())


class Squares(vista.Task):
    name = "squares"
    category = "math"
    procedural = True
    splits = ("train", "test")

    def load(self, split="test", data_dir=None, *, seed=0, limit=None):
        for i in range(limit or 5):
            n = seed * 100 + i
            yield vista.Example(id=f"{split}-{n}", task=self.name, images=[Image.new("L", (8, 8), n % 255)],
                                question=f"What is {n} squared?", answer=str(n * n), answer_type="integer")

    def score(self, prediction, example):
        return float(prediction is not None and prediction.strip() == example.answer)


def test_check_task_passes_a_good_task():
    assert check_task(Squares()) == []


def test_check_task_catches_a_scorer_that_rejects_gold():
    class Strict(Squares):
        def score(self, prediction, example):
            return 0.0

    with pytest.raises(CheckFailed, match="gold answer"):
        check_task(Strict())
