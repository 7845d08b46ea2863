"""What every benchmark loader shares: where its data lives, the error when it is absent, and readers for the
formats publishers use (JSON, JSON lines, Hugging Face `datasets` parquet shards with embedded images)."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, ClassVar

from PIL import Image
from vista import DataStatus, Example, Task, VistaError
from vista.errors import did_you_mean

from ..answers import choice_index, letter_of, parse_number
from ..scoring import score_answer

DATA_DIR_ENV = "VISTA_DATA_DIR"


class DatasetMissingError(VistaError):
    """A benchmark's files are not where the loader looked; the message says where to get them and how to lay
    them out."""


class DatasetFormatError(VistaError):
    """A benchmark's files are there but do not follow the publisher's format."""


class Benchmark(Task):
    """A published benchmark read from a local copy of its release.

    The data folder is, in order: the `data_dir` argument, the task's `data_env` variable, or
    `$VISTA_DATA_DIR/<name>`. Subclasses set `homepage` (where to download) and `layout` (the files expected under
    the folder, as the publisher ships them), and implement `split_files(root, split)` and
    `read(root, split, files)`; the default `score` is `score_answer` by the example's answer type."""

    distribution: ClassVar[str] = "id"
    homepage: ClassVar[str] = ""
    layout: ClassVar[str] = ""

    def resolve_data_dir(self, data_dir: str | os.PathLike | None) -> Path | None:
        found = super().resolve_data_dir(data_dir)
        if found is None and os.environ.get(DATA_DIR_ENV):
            return Path(os.environ[DATA_DIR_ENV]) / self.name
        return found

    def _source(self, data_dir: str | os.PathLike | None) -> str:
        """Which of the places `resolve_data_dir` reads gave the folder, for messages that say where it looked."""
        if data_dir is not None:
            return "data_dir (--data-dir)"
        if self.data_env and os.environ.get(self.data_env):
            return f"${self.data_env}"
        return f"${DATA_DIR_ENV}/{self.name}"

    def how_to_get(self) -> str:
        return (f"Download {self.name} from {self.homepage} and lay it out as\n{self.layout.rstrip()}\n"
                f"then pass data_dir=<that folder>, set {self.data_env}=<that folder>, "
                f"or put it at ${DATA_DIR_ENV}/{self.name}.")

    def data_status(self, data_dir: str | os.PathLike | None = None) -> DataStatus:
        where = self.resolve_data_dir(data_dir)
        present = bool(where and where.is_dir() and any(self.has_split(where, s) for s in self.splits))
        return DataStatus(present=present, location=str(where) if where else None, how_to_get=self.how_to_get())

    def has_split(self, root: Path, split: str) -> bool:
        return bool(self.split_files(root, split))

    def split_files(self, root: Path, split: str) -> list[Path]:
        """The annotation files (or parquet shards) of `split` under `root` that exist; empty when absent."""
        raise NotImplementedError(f"benchmark '{self.name}' does not implement split_files()")

    def require_files(self, root: Path, split: str) -> list[Path]:
        files = self.split_files(root, split)
        if not files:
            raise DatasetMissingError(f"split '{split}' of task '{self.name}' not found under {root}.\n"
                                      f"{self.how_to_get()}")
        return files

    def data_root(self, data_dir: str | os.PathLike | None) -> Path:
        where = self.resolve_data_dir(data_dir)
        if where is None:
            raise DatasetMissingError(f"no data folder for task '{self.name}': no data_dir (--data-dir) was given, and "
                                      f"neither {self.data_env} nor {DATA_DIR_ENV} is set.\n{self.how_to_get()}")
        if not where.is_dir():
            raise DatasetMissingError(f"data folder {where.resolve()} of task '{self.name}' does not exist (from "
                                      f"{self._source(data_dir)}).\n{self.how_to_get()}")
        return where

    def check_split(self, split: str) -> None:
        if split not in self.splits:
            raise ValueError(f"task '{self.name}' has no split {split!r}; its splits are {', '.join(self.splits)}."
                             + did_you_mean(split, self.splits))

    def load(self, split: str | None = None, data_dir: str | os.PathLike | None = None, *,
             seed: int = 0, limit: int | None = None) -> Iterator[Example]:
        """The split's examples in the publisher's order (`seed` is unused: benchmarks are fixed; sample them
        through a `Mixture`). Images are paths or lazily decoded images."""
        split = split or self.splits[0]
        self.check_split(split)
        root = self.data_root(data_dir)
        examples = self.read(root, split, self.require_files(root, split))
        return itertools.islice(examples, limit) if limit is not None else iter(examples)

    def read(self, root: Path, split: str, files: list[Path]) -> Iterable[Example]:
        """The split's examples, from `files` (what `split_files` found)."""
        raise NotImplementedError(f"benchmark '{self.name}' does not implement read()")

    def example(self, **fields: Any) -> Example:
        return Example(task=self.name, **fields)

    def score(self, prediction: str | None, example: Example) -> float:
        return score_answer(prediction, example.answer, example.answer_type, example.choices)


# --- readers ----------------------------------------------------------------------------------------------------

def read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as exc:
        raise DatasetFormatError(f"{path} is not valid JSON: {exc}") from exc


def read_jsonl(path: Path) -> Iterator[dict]:
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetFormatError(f"{path}:{number} is not valid JSON: {exc}") from exc


def parquet_files(root: Path, split: str) -> list[Path]:
    """The parquet shards of a split in a Hugging Face dataset repository: `data/<split>-00000-of-00001.parquet`,
    `<config>/<split>-*.parquet` or `<split>.parquet`, anywhere under `root`."""
    patterns = (f"{split}-*.parquet", f"{split}.parquet")
    return sorted({p for pattern in patterns for p in root.rglob(pattern)})


def read_parquet(files: Iterable[Path]) -> Iterator[dict]:
    """Rows of parquet shards as dicts, a batch at a time so that big shards of embedded images stream."""
    import pyarrow.parquet as pq

    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=64):
            yield from batch.to_pylist()


def hf_image(value: Any, root: Path | None = None) -> Image.Image | str | None:
    """An image cell of a Hugging Face dataset (`{"bytes": ..., "path": ...}`), opened lazily (no pixel decode
    until used), or a path relative to `root`."""
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("bytes"):
            return Image.open(io.BytesIO(value["bytes"]))
        value = value.get("path")
        if not value:
            return None
    path = Path(value)
    return str(path if path.is_absolute() or root is None else root / path)


def first_present(root: Path, *candidates: str) -> Path | None:
    for candidate in candidates:
        if (root / candidate).exists():
            return root / candidate
    return None


_CHOICE_LINE = re.compile(r"^\s*\(([A-Z])\)\s*(.+?)\s*$", re.M)


def choices_in_question(question: str) -> list[str] | None:
    """The options of a question that lists them as "(A) ...", "(B) ..." lines (MathVista's query format,
    used by instruction-tuning sets built from it), when they run A, B, C... in order."""
    found = _CHOICE_LINE.findall(question)
    if len(found) < 2 or [letter for letter, _ in found] != [letter_of(i) for i in range(len(found))]:
        return None
    return [text for _, text in found]


def typed_answer(answer: str, choices: list[str] | None) -> tuple[str, str]:
    """(gold, answer_type) for a free-form gold answer: a choice's text when it names one, else a number or text."""
    if choices:
        index = choice_index(answer, choices, free_text=False)
        if index is not None:
            return choices[index], "multiple_choice"
    number = parse_number(answer, strict=True)
    if number is None:
        return answer, "boolean" if answer.strip().lower() in ("yes", "no") else "text"
    return answer, "integer" if number == int(number) and "." not in answer else "float"
