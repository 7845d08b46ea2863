"""Wall time of GRPO's multi-turn rollout when tools take real time: the old rollout (lock-step turns, one tool call
at a time), the new ones (lock-step with a turn's calls at once; episodes advancing on their own), and the ideal
(the slowest episode played alone), in one run on the same episodes.

    make install-vllm && .venv-vllm/bin/python bench/rollout_throughput.py          # CPU, vLLM's CPU build
    .venv-vllm/bin/python bench/rollout_throughput.py --served ocr_read_text        # a real tool via `vista serve`

The policy is the tiny preset's Qwen2.5-VL architecture with random weights (`trainer_grpo_step.build`), sampled by
vLLM (colocate); a random policy never writes a tool call, so its turns are constrained by a regular expression
(vLLM's structured outputs) to the call ``wait`` and nothing else: ``--episodes`` episodes of ``shape_scene`` with
``max_turns`` 2, three turns each, two calls run (the closing turn's call is refused, and the episode ends).
``wait`` sleeps for a latency drawn from a log-normal distribution (``--median`` seconds, p99 ``--p99``; seeded, and
keyed by the episode's example and its call count, so every rollout meets the same latencies whatever the order of
calls). The executor allows every episode's call at once (a remote service's view; `EpisodeRollout`'s default
allows 8 calls of one tool). Printed per rollout: wall time, and the ratios old / new and new / ideal. The
latencies are only sleeps: what they measure is waiting, the rollout's cost where tools are remote or model-backed.

- ``old``: one batched generation per turn, then each episode's tool call in turn (`ToolExecutor` limit 1 per tool,
  what `EpisodeRollout` did before it played a turn's calls at once);
- ``lock-step``: one batched generation per turn, the turn's calls at once (`EpisodeRollout.step_all`): the
  transformers engine's rollout, here with vLLM sampling;
- ``streaming``: each episode's next turn submitted as soon as its call returns (`VllmStream`), vLLM's default;
- ``ideal``: the episode whose latencies sum highest, played alone (streaming);
- ``no waiting``: streaming with every call returning at once: the rollout's compute alone, the other floor.

With ``--served TOOL`` the calls go to a real tool of the standard families behind `vista serve` on 127.0.0.1 (its
default limits: 4 calls at once, 64 waiting), through its client, and the reference is one episode played alone.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))  # the tool-server test helpers

import torch  # noqa: E402
import vista  # noqa: E402
from trainer_grpo_step import build  # noqa: E402
from vista.executor import ToolExecutor  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.generation import vllm_generate  # noqa: E402
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.policy import ChatCodec, load_policy  # noqa: E402
from vista_trainer.rollout import EpisodeRollout  # noqa: E402

CALLS = 2  # run per episode: max_turns 2 lets turns 0 and 1 call tools; the closing turn's call is refused


class WaitArgs(vista.ToolArguments):
    pass


class Wait(vista.Tool):
    """Sleeps for a latency drawn once per (episode's example, call number) from a seeded log-normal."""

    name = "wait"
    family = "math"
    description = "Wait for a remote service."
    Arguments = WaitArgs
    examples = [{}]
    median, p99, seed = 0.2, 2.0, 0
    waiting = True  # False: return at once (the rollout's compute alone)

    def __init__(self):
        self.calls: Counter = Counter()
        self.guard = threading.Lock()

    @classmethod
    def latency(cls, key: str, call: int) -> float:
        sigma = math.log(cls.p99 / cls.median) / 2.326  # z of the 99th percentile
        rng = random.Random(f"{cls.seed}:{key}:{call}")
        return cls.median * math.exp(sigma * rng.gauss(0, 1))

    def run(self, args: WaitArgs, ctx: vista.ToolContext) -> vista.ToolResult:
        key = ctx.metadata["example_id"]
        with self.guard:
            call = self.calls[key]
            self.calls[key] += 1
        seconds = self.latency(key, call) if self.waiting else 0.0
        time.sleep(seconds)
        return vista.ToolResult(text=f"waited {seconds:.2f} s")


class Plugin:
    tool = Wait()

    @staticmethod
    @vista.hookimpl
    def register_tools(register) -> None:
        register(Plugin.tool)


def policy(registry, tool: str, args, workdir: Path):
    """The tiny policy on vLLM, its turns constrained to calling ``tool`` with no argument, and its rollout."""
    task = registry.task("shape_scene")
    checkpoint = workdir / "qwen2.5-vl-tiny-random-float32"
    if not (checkpoint / "vista_policy.json").exists():
        build("tiny", checkpoint, task, 16 * 28 * 28, torch.float32)
    torch.set_num_threads(1)
    examples = list(task.load("train", seed=30_000, limit=args.episodes))
    call = f'<tool_call>{{"name": "{tool}", "arguments": {{}}}}</tool_call>'
    config = VistaTrainConfig(run_dir=str(workdir / "run"), model_name_or_path=str(checkpoint), use_vllm=True,
                              num_generations=2, grpo_batch_size=args.episodes, grpo_gradient_accumulation=1,
                              max_new_tokens=args.max_new_tokens, max_length=4096, max_turns=2,
                              system_prompt="compact",
                              grpo_args={"generation_kwargs": {"structured_outputs": {"regex": re.escape(call)}}})
    model, processor = load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    codec = ChatCodec(processor, config.max_length)
    rollout = EpisodeRollout(examples, codec, registry=registry,
                             env_kwargs={"tools": [tool], "max_turns": 2, "reward": "hierarchical"},
                             system_prompt=lambda _: "compact")
    trainer = build_trainer(model, codec, config.grpo_config(str(workdir / "run" / "grpo")), rollout,
                            reward_name="hierarchical")
    rollout.play(examples[:4], trainer)  # warm the engine up
    return examples, rollout, trainer


def time_variants(rollout, trainer, variants: dict) -> dict[str, tuple[float, int]]:
    """Wall time of each variant's rollout and the tool calls its episodes ran."""
    out = {}
    for name, (generate, executor, batch) in variants.items():
        rollout.generate, rollout.executor = generate, executor
        Plugin.tool.calls.clear()  # every rollout meets the same latencies, from each episode's first call
        Wait.waiting = name != "no waiting"
        started = time.perf_counter()
        episodes = rollout.play(batch, trainer)
        ran = sum(c.output_text is not None for e in episodes for s in e.trajectory.steps for c in s.tool_calls)
        out[name] = (time.perf_counter() - started, ran)
    return out


def report(times: dict[str, tuple[float, int]], ideal: str) -> None:
    for name, (seconds, calls) in times.items():
        print(f"  {name:10s} {seconds:6.2f} s  ({calls} tool calls run)")
    seconds = {name: value[0] for name, value in times.items()}
    print(f"old / lock-step {seconds['old'] / seconds['lock-step']:.2f}x, old / streaming "
          f"{seconds['old'] / seconds['streaming']:.2f}x; lock-step / {ideal} "
          f"{seconds['lock-step'] / seconds[ideal]:.2f}x, streaming / {ideal} "
          f"{seconds['streaming'] / seconds[ideal]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--median", type=float, default=0.2, help="median tool latency, seconds")
    parser.add_argument("--p99", type=float, default=2.0, help="99th percentile of the tool latency, seconds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-new-tokens", type=int, default=96, help="the tiny preset's; a random policy spells the "
                        "constrained call in up to one token per character")
    parser.add_argument("--served", metavar="TOOL", default=None,
                        help="instead of `wait`, a real tool of the standard families served by `vista serve` on "
                             "127.0.0.1 (e.g. ocr_read_text: RapidOCR on the image), called through its client")
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{max(0, (os.cpu_count() or 1) - 1)}")
    Wait.median, Wait.p99, Wait.seed = args.median, args.p99, args.seed
    workdir = args.workdir or Path(tempfile.gettempdir()) / "vista-throughput-bench"

    def every_call_at_once():
        return ToolExecutor(default_limit=args.episodes, max_workers=args.episodes)

    with registered_plugin(Plugin, "wait_plugin", select="all") as registry:
        if args.served:
            served(args, registry, workdir, every_call_at_once)
            return
        examples, rollout, trainer = policy(registry, "wait", args, workdir)
        totals = {e.id: sum(Wait.latency(e.id, c) for c in range(CALLS)) for e in examples}
        slowest = max(examples, key=lambda e: totals[e.id])
        times = time_variants(rollout, trainer, {
            "old": (vllm_generate, ToolExecutor(default_limit=1), examples),
            "lock-step": (vllm_generate, every_call_at_once(), examples),
            "streaming": (None, every_call_at_once(), examples),
            "ideal": (None, every_call_at_once(), [slowest]),
            "no waiting": (None, every_call_at_once(), examples)})
        # every rollout met the same calls: each episode ran its CALLS calls (a cut call would run none)
        assert all(calls == (1 if name == "ideal" else len(examples)) * CALLS for name, (_, calls) in times.items()), \
            times
        latencies = sorted(Wait.latency(e.id, c) for e in examples for c in range(CALLS))
        print(f"{args.episodes} episodes x 3 turns ({CALLS} calls of `wait` each: latency median "
              f"{latencies[len(latencies) // 2]:.2f} s, max {latencies[-1]:.2f} s, sum {sum(latencies):.1f} s; the "
              f"slowest episode waits {totals[slowest.id]:.2f} s), tiny policy on vLLM's CPU build, "
              f"<= {args.max_new_tokens} tokens per turn")
        report(times, "ideal")
        floor = max(times["ideal"][0], times["no waiting"][0])
        print(f"streaming / max(ideal, no waiting) {times['streaming'][0] / floor:.2f}x")


def served(args, registry, workdir: Path, every_call_at_once) -> None:
    """The same rollouts with a real model-backed tool behind `vista serve` (its defaults: 4 calls at once, a queue of
    64), the calls going through `ToolServerClient` (`attach_remote_tools`)."""
    import subprocess

    from serving import free_port, wait_healthy
    from vista.serve.client import attach_remote_tools

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "vista.cli", "serve", "--tools", args.served, "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, 120)
        attach_remote_tools(registry, url, [args.served])
        examples, rollout, trainer = policy(registry, args.served, args, workdir)
        times = time_variants(rollout, trainer, {
            "old": (vllm_generate, ToolExecutor(default_limit=1), examples),
            "lock-step": (vllm_generate, every_call_at_once(), examples),
            "streaming": (None, every_call_at_once(), examples),
            "one alone": (None, every_call_at_once(), examples[:1])})
        print(f"{args.episodes} episodes x 3 turns, 2 calls each of `{args.served}` served by `vista serve` "
              f"(defaults), tiny policy on vLLM's CPU build, <= {args.max_new_tokens} tokens per turn")
        report(times, "one alone")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
