"""MapQA (Chang et al., NeurIPS 2022 workshop): questions about US choropleth maps (values, regions, lists of
states), in three subsets: MapQA-U (uniform KFF style), MapQA-R (regenerated styles), MapQA-S (synthetic data).

Checked against the publisher's README (OSU-slatelab/MapQA) only: each subset has `questions/train-QA.json`,
`dev-QA.json` and `test-QA.json`. The same README calls the middle split "val" when it describes MapQA-R, so
`dev` also reads a `val-QA.json`, and `val` is accepted as a name of the `dev` split. `data_dir` may be the
folder holding the subsets or one subset's folder."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from vista import Example

from ..answers import final_span
from ..scoring import score_answer
from .base import Benchmark, DatasetFormatError, read_json, typed_answer

SPLIT_ALIASES = {"val": "dev"}


def _item_set(text: str) -> set[str]:
    return {" ".join(p.strip(" .").lower().split()) for p in re.split(r",|;|\band\b", text) if p.strip(" .")}


class MapQA(Benchmark):
    name = "mapqa"
    category = "chart"
    description = "MapQA: questions on choropleth maps of the US: retrieve a value, compare regions, list states."
    splits = ("test", "dev", "train")
    checked_on = "documented_schema"
    data_env = "VISTA_DATA_MAPQA"
    homepage = "https://github.com/OSU-slatelab/MapQA (MapQA_V3.0 archive)"
    layout = """\
  <folder>/<subset>/questions/<split>-QA.json   lists of {question_id, map_id, question_type,
                                                question_template_id, question, answer (a string, a number or
                                                a list of strings), ...}; <split> is train, dev or test
  <folder>/<subset>/images/<map_id>             the maps (every subset found, e.g. MapQA_U, MapQA_R, MapQA_S,
                                                is read, in name order; <folder> may also be one subset)"""
    recommended_tools = ("ocr_read_text", "zoom", "crop")

    def check_split(self, split: str) -> None:
        super().check_split(SPLIT_ALIASES.get(split, split))

    def split_files(self, root: Path, split: str) -> list[Path]:
        split = SPLIT_ALIASES.get(split, split)
        names = [f"{split}-QA.json"] + (["val-QA.json"] if split == "dev" else [])
        found = []
        for subset in [root, *sorted(p for p in root.iterdir() if p.is_dir())] if root.is_dir() else []:
            found += [subset / "questions" / name for name in names if (subset / "questions" / name).is_file()][:1]
        return found

    def read(self, root: Path, split: str, files: list[Path]) -> Iterator[Example]:
        for path in files:
            subset = path.parent.parent
            items = read_json(path)
            if not isinstance(items, list):
                raise DatasetFormatError(f"{path} should hold a list of questions, as MapQA's README documents")
            for index, item in enumerate(items):
                raw = item["answer"]
                items = [str(a) for a in raw] if isinstance(raw, list) else None
                answer, answer_type = (", ".join(items), "text") if items else typed_answer(str(raw), None)
                yield self.example(
                    id=f"{subset.name}/{path.stem.removesuffix('-QA')}/{item.get('question_id', index)}",
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
