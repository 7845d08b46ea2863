"""MapQA (Chang et al., NeurIPS 2022 workshop): questions about US choropleth maps (values, regions, lists of
states), in three subsets: MapQA-U (uniform KFF style), MapQA-R (regenerated styles), MapQA-S (synthetic data)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import final_span
from ..scoring import score_answer
from .base import Benchmark, read_json, typed_answer


def _item_set(text: str) -> set[str]:
    return {" ".join(p.strip(" .").lower().split()) for p in re.split(r",|;|\band\b", text) if p.strip(" .")}


class MapQA(Benchmark):
    name = "mapqa"
    category = "chart"
    description = "MapQA: questions on choropleth maps of the US: retrieve a value, compare regions, list states."
    splits = ("test", "val", "train")
    data_env = "VISTA_DATA_MAPQA"
    homepage = "https://github.com/OSU-slatelab/MapQA (MapQA_V3.0 archive)"
    layout = """\
  <folder>/MapQA_<subset>/questions/<split>-QA.json   lists of {question_id, question, answer (string, number
                                                      or list of strings), map_id, question_template_id, ...}
  <folder>/MapQA_<subset>/images/<map_id>             the maps (<subset> is U, R, S or V; every subset found is
                                                      read, in name order)"""
    recommended_tools = ("ocr_read_text", "zoom", "crop")

    def split_files(self, root: Path, split: str) -> list[Path]:
        return sorted(root.glob(f"MapQA_*/questions/{split}-QA.json"))

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for path in files:
            subset = path.parent.parent
            for index, item in enumerate(read_json(path)):
                raw = item["answer"]
                items = [str(a) for a in raw] if isinstance(raw, list) else None
                answer, answer_type = (", ".join(items), "text") if items else typed_answer(str(raw), None)
                yield self.example(
                    id=f"{subset.name}/{split}/{item.get('question_id', index)}",
                    images=[str(subset / "images" / item["map_id"])], question=item["question"],
                    answer=answer, answer_type=answer_type,
                    metadata={"subset": subset.name, "answer_items": items, "map_id": item["map_id"],
                              "question_template_id": item.get("question_template_id")},
                )

    def score(self, prediction: str | None, example: Example) -> float:
        """Exact match; an answer that lists states matches as a set (order and "and" do not matter)."""
        items = example.metadata.get("answer_items")
        if items is None:
            return super().score(prediction, example)
        if prediction is None:
            return 0.0
        return float(_item_set(final_span(str(prediction))) == {" ".join(i.lower().split()) for i in items}
                     or score_answer(prediction, example.answer, "text") == 1.0)
