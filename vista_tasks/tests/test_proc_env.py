"""Every generator plays in the environment: an episode over a generated example, answered with the gold answer,
is judged correct, and the example's metadata survives JSON (trajectories are JSONL)."""

import json
import types

import pytest
import vista
from vista.testing import registered_plugin
from vista_tasks.procedural import PROCEDURAL_TASKS


@pytest.mark.parametrize("task", PROCEDURAL_TASKS, ids=lambda t: t.name)
def test_an_episode_with_the_gold_answer_scores_one(task):
    # the built-ins alone: the hierarchical reward, and no tools (a plain chain-of-thought episode)
    with registered_plugin(types.ModuleType("nothing")) as registry:
        env = vista.VistaEnv(task, split="train", tools="none", registry=registry)
    observation, info = env.reset(seed=11)
    assert info["example_id"].startswith(f"{task.name}-train-")
    json.dumps(env.example.metadata)
    _, reward, terminated, _, _ = env.step(f"<think>Read the image.</think><answer>{env.example.answer}</answer>")
    assert terminated and env.trajectory.score == 1.0 and reward > 0
