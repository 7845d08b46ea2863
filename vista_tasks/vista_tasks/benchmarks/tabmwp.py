"""TabMWP (Lu et al., ICLR 2023): math word problems over tables; out-of-distribution test set."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import choice_index, extract_answer, final_span, most_similar_choice
from .base import Benchmark, read_json

_ANSWER_TYPES = {"integer_number": "integer", "decimal_number": "float"}
_NUMERIC = re.compile(r"^[-+]?[\d,./]+$")


def normalize_tabmwp_answer(text: str, unit: str | None) -> str:
    """TabMWP's `normalize_answer` (PromptPG): numbers lose "$", separators and trailing zeros and fractions
    become decimals rounded to 3 places ("3/10" -> "0.3"); text loses the unit."""
    text = re.sub(r"^\$", "", str(text).strip())
    text = re.sub(r"[,./]$", "", text)
    if _NUMERIC.match(text):
        text = text.replace(",", "")
        try:
            if re.fullmatch(r"[-+]?\d+", text):
                number = str(int(text))
            elif "/" in text:
                numerator, denominator = text.split("/")[:2]
                number = str(round(float(numerator) / float(denominator), 3))
            else:
                number = str(round(float(text), 3))
        except (ValueError, ZeroDivisionError):
            return text
        return re.sub(r"\.0+$", "", number)
    if unit:
        text = text.replace(unit, "").strip()
    return text


class TabMWP(Benchmark):
    name = "tabmwp"
    category = "math"
    distribution = "ood"
    description = "TabMWP: grade-school math word problems over a table given as an image."
    splits = ("test", "test1k", "dev", "dev1k", "train")
    checked_on = "real_files"
    data_env = "VISTA_DATA_TABMWP"
    homepage = "https://github.com/lupantech/PromptPG (data/tabmwp)"
    layout = """\
  <folder>/problems_<split>.json   dict pid -> problem (question, choices, answer, unit, table, table_for_pd,
                                   ques_type, ans_type, solution, ...), splits test, test1k, dev, dev1k, train
                                   (the files PromptPG ships in data/tabmwp)
  <folder>/tables/<pid>.png        the table of each problem, rendered"""
    recommended_tools = ("ocr_read_table", "calculator", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        path = root / f"problems_{split}.json"
        return [path] if path.is_file() else []

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for pid, problem in read_json(files[0]).items():
            multi_choice = problem["ques_type"] == "multi_choice"
            yield self.example(
                id=str(pid), images=[str(root / "tables" / f"{pid}.png")], question=problem["question"],
                choices=problem.get("choices") or None, answer=problem["answer"],
                answer_type="multiple_choice" if multi_choice else _ANSWER_TYPES.get(problem["ans_type"], "text"),
                metadata={"unit": problem.get("unit"), "table": problem.get("table"),
                          "table_title": problem.get("table_title"), "table_for_pd": problem.get("table_for_pd"),
                          "ques_type": problem["ques_type"], "ans_type": problem["ans_type"],
                          "grade": problem.get("grade"), "solution": problem.get("solution")},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        """TabMWP's evaluation: the choice named by letter, text or else the most similar option; free answers
        compared after `normalize_tabmwp_answer` ("$3.30" = "3.3", "3/10" = "0.3", "7 apples" = "7")."""
        if prediction is None:
            return 0.0
        prediction = str(prediction)
        unit = example.metadata.get("unit")
        if example.choices:
            span = final_span(prediction)
            if not span:
                return 0.0
            picked = choice_index(span, example.choices)
            if picked is None:
                picked = most_similar_choice(span, example.choices)
            predicted = example.choices[picked]
        else:
            predicted = extract_answer(prediction, "float" if example.answer_type != "text" else "text")
            if predicted is None:
                return 0.0
        return float(normalize_tabmwp_answer(predicted, unit) == normalize_tabmwp_answer(example.answer, unit))
