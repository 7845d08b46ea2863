"""What every procedural task shares: a config with a difficulty knob, seeded generation with disjoint seed sets
per split, and scoring through `vista_tasks.scoring`.

A generator draws everything from one `random.Random` built from (split, seed), so the same seed gives the same
example, images included, in every process. Splits never share a generator seed: test uses the even numbers
2*seed and train the odd numbers 2*seed + 1.
"""

from __future__ import annotations

import ast
import operator
import os
import random
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, ClassVar

from vista import Example, OracleSolution, Task

from ..scoring import score_answer

SPLIT_OFFSETS: dict[str, int] = {"test": 0, "train": 1}
DIFFICULTIES: tuple[int, ...] = (0, 1, 2)


@dataclass
class ProceduralConfig:
    """Fields every generator's config has.

    - ``difficulty``: 0 (easy), 1 (medium) or 2 (hard); each task's docstring says what it changes.
    - ``size``: how many examples ``load`` yields when no ``limit`` is given.
    """

    difficulty: int = 1
    size: int = 500

    def validate(self) -> None:
        if self.difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {self.difficulty!r}")
        if self.size < 1:
            raise ValueError(f"size must be >= 1 (the number of examples load() yields), got {self.size}")


def choose_from(name: str, wanted: tuple[str, ...], allowed: tuple[str, ...]) -> None:
    """Check that a config's tuple of options is a non-empty subset of what the generator knows."""
    unknown = [w for w in wanted if w not in allowed]
    if unknown or not wanted:
        raise ValueError(f"{name} must be a non-empty tuple drawn from {allowed}, got {wanted!r}")


class ProceduralTask(Task):
    """Base of the generators: subclasses set `Config` and implement `_generate(rng, config)`, returning the
    fields of an `Example` (question, answer, answer_type, images, metadata, choices), and `oracle`."""

    procedural: ClassVar[bool] = True
    splits: ClassVar[tuple[str, ...]] = ("train", "test")
    Config: ClassVar[type[ProceduralConfig]] = ProceduralConfig
    # Relative numeric tolerance of the task's metric (0 = exact after normalisation).
    tolerance: ClassVar[float] = 0.0

    def __init__(self, config: ProceduralConfig | None = None):
        self.config = config if config is not None else self.Config()
        if not isinstance(self.config, self.Config):
            raise TypeError(f"task '{self.name}' takes a {self.Config.__name__}, got {type(self.config).__name__}")
        self.config.validate()

    def generate(self, seed: int, split: str = "test") -> Example:
        """The example of `split` for `seed` (any non-negative integer)."""
        if split not in SPLIT_OFFSETS:
            raise ValueError(f"task '{self.id}' has no split {split!r}; its splits are {list(self.splits)}")
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        rng = random.Random(2 * seed + SPLIT_OFFSETS[split])
        fields = self._generate(rng, self.config)
        fields.setdefault("metadata", {}).update(
            seed=seed, split=split, difficulty=self.config.difficulty, generator=self.id)
        return Example(id=f"{self.name}-{split}-{seed}", task=self.name, **fields)

    def load(self, split: str = "test", data_dir: str | os.PathLike | None = None, *,
             seed: int = 0, limit: int | None = None) -> Iterator[Example]:
        """Examples for seeds seed, seed+1, ...: `limit` of them, else `config.size`. `data_dir` is unused."""
        count = self.config.size if limit is None else limit
        for offset in range(count):
            yield self.generate(seed + offset, split)

    def score(self, prediction: str | None, example: Example) -> float:
        return score_answer(prediction, example.answer, example.answer_type, example.choices,
                            tolerance=self.tolerance)

    def _generate(self, rng: random.Random, config: Any) -> dict[str, Any]:
        raise NotImplementedError(f"task '{self.id}' does not implement _generate()")

    def oracle(self, example: Example) -> OracleSolution:
        raise NotImplementedError(f"task '{self.id}' does not implement oracle()")


def format_value(value: float, decimals: int = 2) -> str:
    """A number as an answer is written: integers without a decimal point, else rounded to `decimals`."""
    rounded = round(float(value), decimals)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{decimals}f}".rstrip("0").rstrip(".")


_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _exact(node: ast.AST) -> Fraction:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return Fraction(repr(node.value))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _exact(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_exact(node.left), _exact(node.right))
    raise ValueError(f"not plain arithmetic: {ast.unparse(node)!r}")


def calculated(expression: str) -> list[str]:
    """Oracle evidence (`OracleSolution.evidence`) of a `calculator` step: the expression, which the calculator
    echoes, and its exact value as the calculator prints it (the exact decimal, or after "≈" to 15 significant
    digits; the answer is this value, rounded as the question asks). ``expression`` is plain arithmetic: numbers,
    + - * / and parentheses."""
    value = _exact(ast.parse(expression, mode="eval").body)
    return [expression, f"{float(value):.15g}"]
