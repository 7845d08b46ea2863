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


def _official(extraction, problem):
    """normalize_extracted_answer + safe_equal of evaluation/calculate_score.py in github.com/lupantech/MathVista
    (commit 53d5258), as written there, with our Levenshtein distance for the `Levenshtein` package's."""
    from vista_tasks.answers import levenshtein as distance

    choices, question_type = problem["choices"], problem["question_type"]
    answer_type, precision = problem["answer_type"], problem["precision"]
    if question_type == "multi_choice":
        extraction = extraction.strip()
        letter = re.findall(r"\(([a-zA-Z])\)", extraction)
        if len(letter) > 0:
            extraction = letter[0].upper()
        sequential_characters = [chr(ord("A") + i) for i in range(len(choices))]
        if extraction in sequential_characters:
            normalized = choices[sequential_characters.index(extraction)]
        else:
            distances = [distance(extraction, choice) for choice in choices]
            normalized = choices[distances.index(min(distances))]
    elif answer_type == "integer":
        try:
            normalized = str(int(float(extraction)))
        except Exception:
            normalized = None
    elif answer_type == "float":
        try:
            normalized = str(round(float(extraction), int(precision)))
        except Exception:
            normalized = None
    else:
        normalized = str(extraction)
    return normalized == problem["answer"]


def _extractions(problem):
    """What the official GPT extraction returns for right and wrong responses: letters, choice texts (also
    misspelt), numbers at and around the answer's precision."""
    if problem["question_type"] == "multi_choice":
        choices = problem["choices"]
        return ([f"({chr(65 + i)})" for i in range(len(choices))] + [chr(65 + i) for i in range(len(choices))]
                + choices + ["#" + c[1:] for c in choices if len(c) > 2])
    if problem["answer_type"] == "list":
        return [problem["answer"], str(json.loads(problem["answer"])[::-1])]
    value = float(problem["answer"])
    return [str(x) for x in (value, value + 0.4, value + 0.5, value - 0.6, value + 1, value + 0.004, value + 0.04,
                             value + 0.006, value - 0.06)]


def test_the_scorer_agrees_with_the_official_calculate_score_on_every_problem(shared_data):
    problems = json.loads((shared_data / "mathvista" / "testmini.json").read_text(encoding="utf-8"))
    task = MathVista()
    examples = {e.id: e for e in task.load("testmini", shared_data / "mathvista")}
    disagreements, checked = [], 0
    for pid, problem in problems.items():
        for extraction in _extractions(problem):
            checked += 1
            if (task.score(extraction, examples[pid]) == 1.0) != _official(extraction, problem):
                disagreements.append((pid, extraction, problem["answer"]))
    assert checked > 5000 and not disagreements, disagreements[:10]


def test_answer_types_and_precision_as_the_official_script_reads_them(testmini):
    task = MathVista()
    by_type = {}
    for example in testmini:
        by_type.setdefault((example.answer_type, example.metadata["precision"]), example)
    assert set(by_type) == {("multiple_choice", None), ("integer", None), ("float", 1.0), ("float", 2.0),
                            ("list", None)}
    integer = by_type["integer", None]
    assert task.score(f"{integer.answer}.7", integer) == 1.0              # int(float(x)) truncates
    assert task.score(f"{int(integer.answer) - 1}.9", integer) == 0.0
    two = by_type["float", 2.0]
    assert task.score(f"{float(two.answer) + 0.004:.3f}", two) == 1.0    # rounds to the answer at 2 places
    assert task.score(f"{float(two.answer) + 0.01:.2f}", two) == 0.0
    assert len({e.id for e in testmini}) == 1000


def test_bad_problems_are_one_line_errors(tmp_path, fx):
    from vista_tasks.benchmarks.base import DatasetFormatError

    good = {"question": "q", "image": "images/1.jpg", "choices": None, "unit": None, "precision": 1.0,
            "answer": "1.5", "question_type": "free_form", "answer_type": "float", "pid": "1", "metadata": {}}
    for change, message in (({"precision": None}, "float answer without a precision"),
                            ({"answer_type": "number"}, "unknown answer_type 'number'"),
                            ({"question_type": "multi_choice", "answer_type": "text", "choices": ["1", "2"]},
                             "not one of its choices")):
        fx.write_json(tmp_path / "testmini.json", {"1": {**good, **change}})
        with pytest.raises(DatasetFormatError, match=message) as raised:
            list(MathVista().load("testmini", tmp_path))
        assert "\n" not in str(raised.value) and "problem 1" in str(raised.value)
