"""End to end with real parts: every procedural task's oracle plays through VistaEnv with the real tools.

The oracle's calls must all validate against the tools' schemas (the contract between the task and tool packages),
and the hierarchical reward must be 1 wherever the tools read the picture right.
"""

import pytest
import vista
from vista.policies import OraclePolicy
from vista.rollout import EpisodeSpec, RolloutRunner

EPISODES = 4


@pytest.fixture(scope="module")
def registry():
    return vista.load_plugins("all")


def procedural(registry):
    return sorted(name for name, task in registry.tasks.items() if task.procedural and name != "dominant_color")


def test_oracles_play_through_the_environment_with_real_tools(registry):
    failures, played = [], []
    for name in procedural(registry):
        task = registry.task(name)
        examples = list(task.load("test", seed=0, limit=EPISODES))
        policy = OraclePolicy({(e.task, e.id): e for e in examples}, registry.tasks)
        runner = RolloutRunner(policy, concurrency=4, registry=registry, split="test")
        trajectories = runner.run(EpisodeSpec(name, example=e) for e in examples)
        played += trajectories
        for t in trajectories:
            for call in t.tool_calls:
                if call.error is not None and call.error.error_class.value in ("E1", "E2", "E3"):
                    failures.append(f"{name}/{t.example_id}: {call.error.message}")
    assert not failures, "\n".join(failures)
    correct = sum(t.reward == 1.0 for t in played) / len(played)
    assert correct >= 0.6, f"oracle episodes rewarded 1: {correct:.0%}"
