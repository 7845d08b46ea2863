"""Environment overhead per step: VistaEnv.step with a trivial tool, in microseconds and as a fraction of the
cheapest real tool call installed (crop/zoom from vista-tools-perception, or calculator from vista-tools-math).

    python bench/core_env_overhead.py [--steps 2000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))

import sample_plugin  # noqa: E402
import vista  # noqa: E402
from PIL import Image  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402


class Noop(vista.Tool):
    name = "noop"
    family = "bench"
    description = "does nothing"
    Arguments = vista.ToolArguments

    def run(self, args, ctx):
        return vista.ToolResult(text="ok")


@vista.hookimpl
def register_tools(register):
    register(Noop())


def time_env_steps(steps: int) -> float:
    with registered_plugin(sys.modules[__name__], "bench", select="none") as registry:
        registry.tasks["multiply"] = sample_plugin.Multiply()
        env = vista.VistaEnv("multiply", tools=["noop"], max_turns=10**9)
        env.reset(seed=0)
        turn = '<think>call</think><tool_call>{"name": "noop", "arguments": {}}</tool_call>'
        env.step(turn)
        samples = []
        for _ in range(steps):
            start = time.perf_counter()
            env.step(turn)
            samples.append(time.perf_counter() - start)
            if len(env.trajectory.steps) >= 50:  # keep the conversation from growing without bound
                env.reset(seed=0)
        env.close()
    return statistics.median(samples)


def cheapest_real_tool(repeats: int = 50) -> tuple[str, float] | None:
    registry = vista.load_plugins("all")
    image = Image.new("RGB", (480, 360), "white")
    candidates = [("crop", {"bbox": [0, 0, 100, 100]}), ("zoom", {"bbox": [0, 0, 100, 100], "factor": 2}),
                  ("calculator", {"expression": "2*(3+4)"})]
    best = None
    for name, arguments in candidates:
        if name not in registry.tools:
            continue
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = vista.call_tool(name, arguments, [image], tools=registry.tools)
            times.append(time.perf_counter() - start)
        if result.ok and (best is None or statistics.median(times) < best[1]):
            best = (name, statistics.median(times))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=2000)
    args = parser.parse_args()
    step_s = time_env_steps(args.steps)
    real = cheapest_real_tool()
    report = {"env_step_with_noop_tool_us": round(step_s * 1e6, 1)}
    if real:
        report.update(cheapest_real_tool=real[0], real_tool_call_us=round(real[1] * 1e6, 1),
                      overhead_fraction_of_real_call=round(step_s / real[1], 3))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
