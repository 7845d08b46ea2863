import json
import re

import pytest
from vista_tasks.benchmarks import MathVista


@pytest.fixture
def testmini(shared_data):
    return list(MathVista().load("testmini", shared_data / "mathvista"))


def _forms(example):
    """The gold answer as models write it."""
    if example.answer_type == "multiple_choice":
        letter = "ABCDEFGH"[example.choices.index(example.answer)]
        forms = [f"The answer is ({letter}).", f"({letter})", f"{letter}.", f"({letter}) {example.answer}"]
        if not re.fullmatch(r"\(?[a-zA-Z]\)?", example.answer):
            # a choice whose text is itself a letter, like "(b)", is read as that letter (MathVista's rule)
            forms += [example.answer, f"The answer is {example.answer}"]
        return forms
    if example.answer_type == "list":
        return [example.answer, f"The answer is {example.answer}."]
    forms = [example.answer, f"The answer is {example.answer}.", f"\\boxed{{{example.answer}}}"]
    if example.answer_type == "float":
        forms.append(example.answer + "0")                   # "1.20" for 1.2
    if example.metadata["unit"]:
        forms.append(f"{example.answer} {example.metadata['unit']}")
    return forms


def _perturbed(example):
    if example.answer_type == "multiple_choice":
        wrong = [i for i, c in enumerate(example.choices) if c != example.answer]
        forms = [f"({'ABCDEFGH'[wrong[0]]})", f"The answer is {'ABCDEFGH'[wrong[-1]]}."]
        if not re.fullmatch(r"\(?[a-zA-Z]\)?", example.choices[wrong[0]]):
            forms.append(example.choices[wrong[0]])
        return forms
    if example.answer_type == "list":
        items = json.loads(example.answer)
        items[0] += 1
        return [str(items)]
    if example.answer_type == "integer":
        return [str(int(example.answer) + 1), str(int(example.answer) - 1)]
    step = 10 ** -int(example.metadata["precision"])
    return [f"{float(example.answer) + step:.{example.metadata['precision']}f}"]


def test_all_1000_answers_load(testmini):
    assert len(testmini) == 1000
    assert sum(e.answer_type == "multiple_choice" for e in testmini) == 540


def test_every_gold_answer_is_judged_correct_in_the_forms_a_model_writes(testmini):
    task = MathVista()
    failures = [(e.id, form) for e in testmini for form in _forms(e) if task.score(form, e) != 1.0]
    assert not failures, failures[:10]


def test_perturbed_answers_are_judged_wrong(testmini):
    task = MathVista()
    failures = [(e.id, wrong) for e in testmini for wrong in _perturbed(e) if task.score(wrong, e) != 0.0]
    assert not failures, failures[:10]


def test_precision_and_integer_rules(testmini):
    task = MathVista()
    spring = next(e for e in testmini if e.id == "1")           # float, precision 1, answer 1.2
    assert task.score("1.23", spring) == 1.0                       # rounds to 1.2
    assert task.score("1.26", spring) == 0.0
    integer = next(e for e in testmini if e.answer_type == "integer" and e.answer == "1000")
    assert task.score("1,000 g", integer) == 1.0
    assert task.score(None, integer) == 0.0


def test_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    base = {"image": "images/1.jpg", "decoded_image": {"bytes": fx.png_bytes(), "path": None}, "unit": None,
            "precision": None, "metadata": {"source": "fixture", "category": "math-targeted-vqa"}, "query": "q"}
    rows = [{**base, "pid": "1", "question": "What is x?", "choices": None, "answer": "3.5",
             "question_type": "free_form", "answer_type": "float", "precision": 1.0},
            {**base, "pid": "2", "question": "Which?", "choices": ["10", "20"], "answer": "20",
             "question_type": "multi_choice", "answer_type": "text"}]
    fx.write_parquet(tmp_path / "data" / "testmini-00000-of-00001.parquet", rows)
    examples = fx.assert_task_checks(MathVista(), tmp_path, "testmini")
    assert [e.answer_type for e in examples] == ["float", "multiple_choice"]
    assert MathVista().score("(B)", examples[1]) == 1.0
