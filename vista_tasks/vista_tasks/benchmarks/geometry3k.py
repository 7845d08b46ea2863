"""Geometry3K (Lu et al., ACL 2021, Inter-GPS): geometry problems with diagrams and formal logic forms.

Checked on ten problems of the release's per-problem layout (lupantech/InterGPS). The annotated logic forms are in
each problem's `logic_form.json` (text_logic_form, dissolved_text_logic_form, diagram_logic_form, line_instances,
point_positions, circle_instances), not in `data.json`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

from vista import Example

from ..answers import choice_index, extract_answer, letter_of, parse_number
from ..scoring import score_answer
from .base import Benchmark, read_json


def nearest_choices(number: float, values: list[float | None]) -> set[int]:
    """Inter-GPS's rule (symbolic_solver/test.py): a result is right for the choices whose value is nearest it
    (`abs(gold - x) == min(...)`, so a tie counts for each tied choice); none when a choice value is unknown."""
    if not values or any(v is None for v in values):
        return set()
    distances = [abs(v - number) for v in values]
    return {i for i, d in enumerate(distances) if d == min(distances)}


def score_choice_or_value(prediction: str | None, example: Example,
                          pick: Callable[[float], set[int]]) -> float:
    """A choice named by letter or text, or else the number in `prediction` mapped onto the choices by `pick`
    (the benchmark's own rule: the indices of the choices it counts that number as)."""
    if prediction is None:
        return 0.0
    if score_answer(prediction, example.answer, "multiple_choice", example.choices):
        return 1.0
    number = parse_number(extract_answer(str(prediction), "float"))
    if number is None:
        return 0.0
    gold = choice_index(example.answer, example.choices, free_text=False)
    return float(gold in pick(number))


class Geometry3K(Benchmark):
    name = "geometry3k"
    category = "geometry"
    description = "Geometry3K: high-school geometry problems with diagram and text logic forms; four choices."
    splits = ("test", "val", "train")
    checked_on = "real_files"
    data_env = "VISTA_DATA_GEOMETRY3K"
    homepage = "https://github.com/lupantech/InterGPS (data/geometry3k, from the release's geometry3k.zip)"
    layout = """\
  <folder>/<split>/<id>/data.json        problem_text, choices, answer (letter), precise_value, rough_value,
                                         problem_type_graph, problem_type_goal, ...
  <folder>/<split>/<id>/img_diagram.png  the diagram
  <folder>/<split>/<id>/logic_form.json  the annotated logic forms: text_logic_form, diagram_logic_form,
                                         point_positions, ... (optional)"""
    recommended_tools = ("geometry_formalize", "geometry_solve", "python_exec")

    def split_files(self, root: Path, split: str) -> list[Path]:
        return sorted((root / split).glob("*/data.json"), key=lambda p: (len(p.parent.name), p.parent.name))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for path in files:
            item = read_json(path)
            logic_path = path.parent / "logic_form.json"
            logic = read_json(logic_path) if logic_path.is_file() else {}
            index = ord(item["answer"].strip().upper()) - ord("A")
            yield self.example(
                id=str(item.get("id", path.parent.name)), images=[str(path.parent / "img_diagram.png")],
                question=item["problem_text"], choices=list(item["choices"]), answer=item["choices"][index],
                answer_type="multiple_choice",
                metadata={"answer_letter": letter_of(index), "precise_value": item.get("precise_value"),
                          "problem_type_graph": item.get("problem_type_graph"),
                          "problem_type_goal": item.get("problem_type_goal"),
                          "text_logic_form": logic.get("text_logic_form", item.get("text_logic_form")),
                          "diagram_logic_form": logic.get("diagram_logic_form", item.get("diagram_logic_form")),
                          "logic_form": logic or None},
            )

    def score(self, prediction: str | None, example: Example) -> float:
        """Inter-GPS's accuracy (symbolic_solver/test.py): a choice named by letter or text, or a number whose
        nearest choice value (`precise_value`) is the gold one's, ties included."""
        values = example.metadata.get("precise_value") or [parse_number(c, strict=True) for c in example.choices]
        return score_choice_or_value(prediction, example, lambda number: nearest_choices(number, values))
