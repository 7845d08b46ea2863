"""`concise_correctness`: the task's score of the final answer, scaled down when the policy's turns run long.

    R = score * (1 - penalty),  penalty = max_penalty * min(1, max(0, chars - budget_chars) / budget_chars)

`chars` counts what the policy wrote (its turns, not prompts or tool responses). Only correct answers lose reward
for length, so a wrong answer is never made more attractive by being short; an episode without an `<answer>`
scores 0 like any wrong answer.
"""

from __future__ import annotations

import vista


class ConciseCorrectness(vista.Reward):
    name = "concise_correctness"
    description = "task score of the final answer, reduced linearly (up to max_penalty) past a length budget"

    def __init__(self, budget_chars: int = 800, max_penalty: float = 0.5):
        if budget_chars <= 0:
            raise ValueError(f"budget_chars must be a positive number of characters, got {budget_chars}")
        if not 0 <= max_penalty <= 1:
            raise ValueError(f"max_penalty must lie in [0, 1] so that the reward stays in [0, score], "
                             f"got {max_penalty}")
        self.budget_chars = budget_chars
        self.max_penalty = max_penalty

    def compute(self, trajectory: vista.Trajectory, example: vista.Example, task: vista.Task) -> vista.RewardResult:
        answer = trajectory.steps[-1].answer if trajectory.steps else None
        score = float(task.score(answer, example))
        chars = sum(len(step.action) for step in trajectory.steps)
        overrun = max(0, chars - self.budget_chars) / self.budget_chars
        penalty = self.max_penalty * min(1.0, overrun)
        return vista.RewardResult(
            total=score * (1 - penalty), components={"correctness": score, "length_penalty": penalty},
            details={"length": f"{chars} characters written, budget {self.budget_chars}"})
