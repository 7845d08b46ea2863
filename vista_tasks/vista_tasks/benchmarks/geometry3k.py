"""Geometry3K (Lu et al., ACL 2021, Inter-GPS): geometry problems with diagrams and formal logic forms."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import choice_index, extract_answer, letter_of, parse_number
from ..scoring import score_answer
from .base import Benchmark, read_json

# Inter-GPS picks the choice whose value is nearest its solver's result; a model's number must also be close to it,
# or any number at all would pick some choice.
NUMERIC_TOLERANCE = 0.01


def numeric_choice(prediction: str, values: list[float | None], tolerance: float) -> int | None:
    """The choice whose value is nearest the number in `prediction`, if within `tolerance` relative error
    (absolute near zero)."""
    number = parse_number(extract_answer(prediction, "float"))
    known = [(abs(number - v), i) for i, v in enumerate(values) if v is not None] if number is not None else []
    if not known:
        return None
    distance, index = min(known)
    return index if distance <= tolerance * max(abs(values[index]), 1e-9) or distance < 1e-6 else None


def score_choice_or_value(prediction: str | None, example: Example, values: list, tolerance: float) -> float:
    """A choice named by letter or text, or else a number matching the gold choice's value."""
    if prediction is None:
        return 0.0
    if score_answer(prediction, example.answer, "multiple_choice", example.choices):
        return 1.0
    gold = choice_index(example.answer, example.choices, free_text=False)
    return float(numeric_choice(str(prediction), values, tolerance) == gold)


class Geometry3K(Benchmark):
    name = "geometry3k"
    category = "geometry"
    description = "Geometry3K: high-school geometry problems with diagram and text logic forms; four choices."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_GEOMETRY3K"
    homepage = "https://github.com/lupantech/InterGPS (data/geometry3k, from the release's geometry3k.zip)"
    layout = """\
  <folder>/<split>/<id>/data.json        problem_text, choices, answer (letter), precise_value, rough_value,
                                         problem_type_graph, problem_type_goal, ...
  <folder>/<split>/<id>/img_diagram.png  the diagram
  <folder>/<split>/<id>/logic_form.json  the diagram logic forms (optional)"""
    recommended_tools = ("geometry_formalize", "geometry_solve", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        return sorted((root / split).glob("*/data.json"), key=lambda p: (len(p.parent.name), p.parent.name))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for path in files:
            item = read_json(path)
            logic_path = path.parent / "logic_form.json"
            index = ord(item["answer"].strip().upper()) - ord("A")
            yield self.example(
                id=str(item.get("id", path.parent.name)), images=[str(path.parent / "img_diagram.png")],
                question=item["problem_text"], choices=list(item["choices"]), answer=item["choices"][index],
                answer_type="multiple_choice",
                metadata={"answer_letter": letter_of(index), "precise_value": item.get("precise_value"),
                          "problem_type_graph": item.get("problem_type_graph"),
                          "problem_type_goal": item.get("problem_type_goal"),
                          "text_logic_form": item.get("text_logic_form"),
                          "logic_form": read_json(logic_path) if logic_path.is_file() else None},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        values = example.metadata.get("precise_value") or [parse_number(c, strict=True) for c in example.choices]
        return score_choice_or_value(prediction, example, values, NUMERIC_TOLERANCE)
