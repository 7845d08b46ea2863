"""The Task contract and the Example every loader and generator yields."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from .images import open_image

AnswerType = Literal["multiple_choice", "integer", "float", "text", "list", "boolean"]

# The paper's seven task categories; third-party tasks may add their own.
CATEGORIES: tuple[str, ...] = (
    "chart", "geometry", "math", "document", "spatial", "science", "general_vqa",
)


class Example(BaseModel):
    """One item of a task. Images are paths (opened lazily) or PIL images; `metadata` keeps whatever ground truth
    lies behind the image (the table behind a chart, the objects behind a scene) and the benchmark's own fields."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    id: str
    task: str
    images: list[Union[str, Path, Image.Image]] = Field(default_factory=list)
    question: str
    choices: list[str] | None = None
    answer: Any
    answer_type: AnswerType = "text"
    metadata: dict[str, Any] = Field(default_factory=dict)

    def open_images(self) -> list[Image.Image]:
        return [open_image(image) for image in self.images]


class DataStatus(BaseModel):
    present: bool
    location: str | None = None
    how_to_get: str = ""


class OracleStep(BaseModel):
    """One step of an expert solution: a thought, then a tool call (name, arguments) or nothing."""

    think: str
    tool: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict)


class OracleSolution(BaseModel):
    """How an expert solves an example: the tool calls to make, then the reasoning from their outputs to the answer.
    Experts run the calls for real and write `rationale` after the last tool response."""

    steps: list[OracleStep]
    answer: str
    rationale: str = ""
    evidence: list[str] = Field(default_factory=list)
    """What the tool outputs must show for `answer` to follow from them: the values the rationale reads off the
    image ("27", "Ann", "red cube"), and the result of a computing step. An expert demonstration whose tool outputs
    lack one of them (a misread table, a failed tool) contradicts its own answer and is not kept for behaviour
    cloning (see `evidence_missing`)."""


# a number: thousands grouped by commas only in threes ("1,200", not the list "27,5,7,9"), a sign only where it
# follows no word or digit ("-3", but "10-3" is 10 and 3); or a run of letters
_TOKEN = re.compile(r"(?<![\w.])-?\d{1,3}(?:,\d{3})+(?:\.\d+)?(?![\d,])|(?<![\w.])-\d+(?:\.\d+)?|\d+(?:\.\d+)?"
                    r"|[^\W\d_]+")


def _tokens(text: str) -> list[str]:
    out = []
    for token in _TOKEN.findall(text.casefold()):
        if token[-1].isdigit():
            try:
                value = float(token.replace(",", ""))
            except ValueError:
                pass
            else:
                token = repr(value) if math.isfinite(value) else token
        out.append(token)
    return out


def evidence_missing(evidence: Sequence[str], text: str, rel_tol: float = 0.0) -> list[str]:
    """The items of ``evidence`` that ``text`` does not show. An item is shown when its tokens (words case-folded,
    numbers compared by value: "27" matches "27.0" and "1,200" matches "1200") occur in ``text`` consecutively;
    with ``rel_tol`` (a task's relative tolerance, for values read off a drawing), numbers match within it."""
    tokens = [(token, _number(token)) for token in _tokens(text)]
    missing = []
    for item in evidence:
        wanted = [(token, _number(token)) for token in _tokens(item)]
        n = len(wanted)
        if n and not any(all(_same(a, b, rel_tol) for a, b in zip(tokens[i:i + n], wanted))
                         for i in range(len(tokens) - n + 1)):
            missing.append(item)
    return missing


def _number(token: str) -> float | None:
    try:
        return float(token) if token[-1].isdigit() else None
    except ValueError:
        return None


def _same(seen: tuple[str, float | None], wanted: tuple[str, float | None], rel_tol: float) -> bool:
    if seen[1] is None or wanted[1] is None or not rel_tol:
        return seen[0] == wanted[0]
    return math.isclose(seen[1], wanted[1], rel_tol=rel_tol)


class Task:
    """Base class of every task. Subclasses set the class attributes and implement `load` and `score`.

    - `name` + `version` make the id (`chartqa-v0`), registered with Gymnasium as `vista/chartqa-v0`.
    - `category`: one of `CATEGORIES` (or a third party's own).
    - `splits`: the splits `load` accepts.
    - `procedural`: True when examples are generated from a seed (deterministic, no data needed).
    - `data_env`: environment variable naming the data folder (fallback for `load(data_dir=None)`).
    - `recommended_tools`: names of tools that help on this task (a prior for the prompt and for experts).
    - `prompt_template`: overrides the environment's user prompt for this task (placeholders {question}, {choices}).
    - `distribution`: "id" for the paper's in-distribution sets (and procedural tasks), "ood" for its test-only sets.
    - `checked_on`: what the loader has been tested against: "real_files" (a sample of the publisher's release),
      "documented_schema" (fixtures written from the publisher's documentation only), "generated" (procedural).
    """

    name: ClassVar[str] = ""
    version: ClassVar[int] = 0
    category: ClassVar[str] = ""
    description: ClassVar[str] = ""
    splits: ClassVar[tuple[str, ...]] = ("test",)
    procedural: ClassVar[bool] = False
    data_env: ClassVar[str | None] = None
    recommended_tools: ClassVar[tuple[str, ...]] = ()
    prompt_template: ClassVar[str | None] = None
    distribution: ClassVar[str] = "id"  # "id": in-distribution (training) set, "ood": out-of-distribution test set
    checked_on: ClassVar[str | None] = None  # "real_files", "documented_schema" or "generated"; None: not stated

    @property
    def id(self) -> str:
        return f"{self.name}-v{self.version}"

    def load(self, split: str = "test", data_dir: str | os.PathLike | None = None, *,
             seed: int = 0, limit: int | None = None) -> Iterator[Example]:
        raise NotImplementedError(f"task '{self.id}' does not implement load()")

    def score(self, prediction: str | None, example: Example) -> float:
        """The benchmark's official metric for one prediction, in [0, 1]."""
        raise NotImplementedError(f"task '{self.id}' does not implement score()")

    def oracle(self, example: Example) -> OracleSolution | None:
        """An expert solution with tool calls, where the task knows one (procedural tasks do)."""
        return None

    def resolve_data_dir(self, data_dir: str | os.PathLike | None) -> Path | None:
        if data_dir is not None:
            return Path(data_dir)
        if self.data_env and os.environ.get(self.data_env):
            return Path(os.environ[self.data_env])
        return None

    def data_status(self, data_dir: str | os.PathLike | None = None) -> DataStatus:
        if self.procedural:
            return DataStatus(present=True, location="generated")
        where = self.resolve_data_dir(data_dir)
        return DataStatus(present=bool(where and where.exists()), location=str(where) if where else None)

    def info(self, data_dir: str | os.PathLike | None = None) -> dict[str, Any]:
        """What listings show about the task (`vista tasks`): its id, category, splits, provenance (`checked_on`)
        and whether its data is present."""
        status = self.data_status(data_dir)
        return {"name": self.name, "id": self.id, "gym_id": f"vista/{self.id}", "category": self.category,
                "splits": list(self.splits), "procedural": self.procedural, "distribution": self.distribution,
                "checked_on": "generated" if self.procedural else self.checked_on,
                "data_present": status.present, "data_location": status.location,
                "how_to_get": status.how_to_get or None}

    def __repr__(self) -> str:
        return f"<Task {self.id} ({self.category})>"
