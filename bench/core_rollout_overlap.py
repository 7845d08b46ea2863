"""Rollout-runner overlap efficiency: actual wall time / ideal wall time, with simulated policy and tool latencies.

Each episode makes 2 tool turns and 1 answer turn; the policy takes P s per turn (asyncio.sleep, like a remote
generation server) and the tool T s per call (time.sleep in a worker thread, like a CPU tool that releases the GIL).
At concurrency C with E = 4*C episodes, the ideal wall time is (E / C) * (3P + 2T): ratio 1.0 is perfect overlap.

    python bench/core_rollout_overlap.py [--policy-ms 50 --tool-ms 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))

import sample_plugin  # noqa: E402
import vista  # noqa: E402
from vista.execution import ToolExecutor  # noqa: E402
from vista.runner import EpisodeRunner, EpisodeSpec  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402

TOOL_S = 0.03


class Wait(vista.Tool):
    name = "wait"
    family = "bench"
    description = "simulated tool latency"
    Arguments = vista.ToolArguments

    def run(self, args, ctx):
        time.sleep(TOOL_S)
        return vista.ToolResult(text="done")


@vista.hookimpl
def register_tools(register):
    register(Wait())


def make_policy(policy_s: float):
    async def policy(obs):
        await asyncio.sleep(policy_s)
        if obs["turn"] < 2:
            return '<think>wait</think><tool_call>{"name": "wait", "arguments": {}}</tool_call>'
        return "<think>done</think><answer>0</answer>"
    return policy


def main() -> None:
    global TOOL_S
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--policy-ms", type=float, default=50)
    parser.add_argument("--tool-ms", type=float, default=30)
    args = parser.parse_args()
    TOOL_S = args.tool_ms / 1000
    policy_s = args.policy_ms / 1000
    rows = []
    with registered_plugin(sys.modules[__name__], "bench", select="none") as registry:
        registry.tasks["multiply"] = sample_plugin.Multiply()
        for concurrency in (1, 8, 64):
            episodes = 4 * concurrency
            executor = ToolExecutor(default_limit=concurrency, max_workers=concurrency)
            runner = EpisodeRunner(make_policy(policy_s), concurrency=concurrency, executor=executor,
                                   tools=["wait"], reward="hierarchical")
            start = time.perf_counter()
            runner.run(EpisodeSpec("multiply", seed=s) for s in range(episodes))
            wall = time.perf_counter() - start
            ideal = (episodes / concurrency) * (3 * policy_s + 2 * TOOL_S)
            executor.close()
            rows.append({"concurrency": concurrency, "episodes": episodes, "wall_s": round(wall, 3),
                         "ideal_s": round(ideal, 3), "actual_over_ideal": round(wall / ideal, 3)})
    print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
