"""The Reward contract: `(trajectory, example, task) -> RewardResult` with named components."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, Field

if TYPE_CHECKING:
    from .task import Example, Task
    from .trajectory import Trajectory


class RewardResult(BaseModel):
    total: float
    components: dict[str, float] = Field(default_factory=dict)
    details: dict[str, str] = Field(default_factory=dict)


class Reward:
    """Base class of every reward. `name` is unique across plugins; `compute` must be deterministic and never raise
    on a malformed trajectory (a malformed trajectory is exactly what a reward has to judge)."""

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""

    def compute(self, trajectory: Trajectory, example: Example, task: Task) -> RewardResult:
        raise NotImplementedError(f"reward '{self.name}' does not implement compute()")

    def __repr__(self) -> str:
        return f"<Reward {self.name}>"
