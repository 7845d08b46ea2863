"""Wall time of GRPO's multi-turn rollout when tools take real time: the old rollout (lock-step turns, one tool call
at a time), the new ones (lock-step with a turn's calls at once; episodes advancing on their own), and the ideal
(the slowest episode played alone), in one run on the same episodes.

    make install-vllm && .venv-vllm/bin/python bench/rollout_throughput.py          # both engines, one run
    .venv/bin/python bench/rollout_throughput.py                                    # transformers alone
    .venv-vllm/bin/python bench/rollout_throughput.py --served ocr_read_text        # a real tool via `vista serve`

The policy is the tiny preset's Qwen2.5-VL architecture with random weights (`trainer_grpo_step.build`), sampled by
each engine in turn: vLLM (colocate, where vLLM is installed) and transformers' ``generate``. A random policy never
writes a tool call, so its turns are constrained to the call ``wait`` and nothing else (vLLM: a regular expression,
its structured outputs; transformers: a logits processor that allows only the call's next token): ``--episodes``
episodes of ``shape_scene`` with ``max_turns`` 2, three turns each, two calls run (the closing turn's call is
refused, and the episode ends).
``wait`` sleeps for a latency drawn from a log-normal distribution (``--median`` seconds, p99 ``--p99``; seeded, and
keyed by the episode's example and its call count, so every rollout meets the same latencies whatever the order of
calls). The executor allows every episode's call at once (a remote service's view; `EpisodeRollout`'s default
allows 8 calls of one tool). Printed per rollout: wall time, and the ratios old / new and new / ideal. The
latencies are only sleeps: what they measure is waiting, the rollout's cost where tools are remote or model-backed.

- ``old``: one batched generation per turn, then each episode's tool call in turn (`ToolExecutor` limit 1 per tool,
  what `EpisodeRollout` did before it played a turn's calls at once);
- ``lock-step``: one batched generation per turn, the turn's calls at once (`EpisodeRollout.step_all`): the
  transformers engine's rollout, here with vLLM sampling;
- ``streaming``: each episode's next turn submitted as soon as its call returns: vLLM request by request
  (`VllmStream`, its default), transformers in batches of the episodes ready (`BatchStream`, ``--streaming true``);
- ``ideal``: the episode whose latencies sum highest, played alone (streaming);
- ``no waiting``: streaming with every call returning at once: the rollout's compute alone, the other floor.

With ``--served TOOL`` the calls go to a real tool of the standard families behind `vista serve` on 127.0.0.1 (its
default limits: 4 calls at once, 64 waiting), through its client, and the reference is one episode played alone.
"""

from __future__ import annotations

import argparse
import importlib.util
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
from vista.execution import ToolExecutor  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402
from vista_trainer.checkpoints import load_policy
from vista_trainer.codec import ChatCodec  # noqa: E402
from vista_trainer.config import VistaTrainConfig  # noqa: E402
from vista_trainer.generation import transformers_generate, vllm_generate  # noqa: E402
from vista_trainer.grpo import build_trainer  # noqa: E402
from vista_trainer.rollout import EpisodeRollout  # noqa: E402
from vista_trainer.trl_setup import grpo_args  # noqa: E402

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


class ForceCall:
    """A logits processor that lets transformers' ``generate`` sample only ``ids`` in order, then end-of-turn: the
    call the vLLM rollouts get from their regular expression."""

    def __init__(self, ids: list[int], eos: int):
        self.ids, self.eos, self.start = ids + [eos], eos, None

    def __call__(self, input_ids, scores):
        self.start = input_ids.shape[1] if self.start is None else self.start
        step = input_ids.shape[1] - self.start
        allowed = self.ids[step] if step < len(self.ids) else self.eos
        forced = torch.full_like(scores, -math.inf)
        forced[:, allowed] = 0.0
        return forced


def forced_transformers_generate(call_ids: list[int], eos: int):
    """`transformers_generate` with every row's turn forced to the call (`ForceCall`, one per generation)."""
    def generate(trainer, episodes, budgets):
        from transformers import LogitsProcessorList

        model = trainer.model_wrapped
        original = model.generate
        model.generate = lambda *a, **k: original(*a, logits_processor=LogitsProcessorList([ForceCall(call_ids, eos)]),
                                                  **k)
        try:
            return transformers_generate(trainer, episodes, budgets)
        finally:
            del model.generate  # the class's again

    return generate


def policy(registry, tool: str, args, workdir: Path, engine: str = "vllm"):
    """The tiny policy on ``engine`` (vllm, transformers), its turns constrained to calling ``tool`` with no
    argument, its rollout, and the engine's lock-step generate function."""
    task = registry.task("shape_scene")
    checkpoint = workdir / "qwen2.5-vl-tiny-random-float32"
    if not (checkpoint / "vista_policy.json").exists():
        build("tiny", checkpoint, task, 16 * 28 * 28, torch.float32)
    torch.set_num_threads(1)
    examples = list(task.load("train", seed=30_000, limit=args.episodes))
    call = f'<tool_call>{{"name": "{tool}", "arguments": {{}}}}</tool_call>'
    vllm = engine == "vllm"
    config = VistaTrainConfig(run_dir=str(workdir / f"run-{engine}"), model_name_or_path=str(checkpoint),
                              use_vllm=vllm, num_generations=2, grpo_batch_size=args.episodes,
                              grpo_gradient_accumulation=1, max_new_tokens=args.max_new_tokens, max_length=4096,
                              max_turns=2, system_prompt="compact",
                              grpo_args={"generation_kwargs": {"structured_outputs": {"regex": re.escape(call)}}}
                              if vllm else {})
    model, processor = load_policy(checkpoint, min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    codec = ChatCodec(processor, config.max_length)
    rollout = EpisodeRollout(examples, codec, registry=registry,
                             env_kwargs={"tools": [tool], "max_turns": 2, "reward": "hierarchical"},
                             system_prompt=lambda _: "compact")
    trainer = build_trainer(model, codec, grpo_args(config, str(workdir / f"run-{engine}" / "grpo")), rollout,
                            reward_name="hierarchical")
    lockstep = vllm_generate if vllm else forced_transformers_generate(
        codec.tokenizer(call)["input_ids"], codec.tokenizer.eos_token_id)
    rollout.generate = lockstep
    rollout.play(examples[:4], trainer)  # warm the engine up
    return examples, rollout, trainer, lockstep


def time_variants(rollout, trainer, variants: dict) -> dict[str, tuple[float, int]]:
    """Wall time of each variant's rollout and the tool calls its episodes ran."""
    out = {}
    for name, (generate, executor, batch, *streaming) in variants.items():
        rollout.generate, rollout.executor = generate, executor
        rollout.streaming = streaming[0] if streaming else None
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
    new = [name for name in ("lock-step", "streaming") if name in seconds]
    print(", ".join(f"old / {name} {seconds['old'] / seconds[name]:.2f}x" for name in new) + "; " +
          ", ".join(f"{name} / {ideal} {seconds[name] / seconds[ideal]:.2f}x" for name in new))


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
    parser.add_argument("--engines", default=None,
                        help="comma-separated, of vllm and transformers (default: both where vLLM is installed)")
    args = parser.parse_args()
    vllm_here = importlib.util.find_spec("vllm") is not None
    args.engines = (args.engines or ("vllm,transformers" if vllm_here else "transformers")).split(",")
    if "vllm" in args.engines and not vllm_here:
        parser.error("--engines vllm needs vLLM (make install-vllm, then run with .venv-vllm/bin/python)")
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
        for engine in args.engines:
            examples, rollout, trainer, lockstep = policy(registry, "wait", args, workdir, engine)
            totals = {e.id: sum(Wait.latency(e.id, c) for c in range(CALLS)) for e in examples}
            slowest = max(examples, key=lambda e: totals[e.id])
            # streaming: vLLM's own (generate None: `VllmStream`), transformers' in ready batches (`BatchStream`)
            own = None if engine == "vllm" else lockstep
            variants = {"old": (lockstep, ToolExecutor(default_limit=1), examples, False),
                        "lock-step": (lockstep, every_call_at_once(), examples, False),
                        "streaming": (own, every_call_at_once(), examples, True),
                        "ideal": (own, every_call_at_once(), [slowest], True),
                        "no waiting": (own, every_call_at_once(), examples, True)}
            times = time_variants(rollout, trainer, variants)
            # every rollout met the same calls: each episode ran its CALLS calls (a cut call would run none)
            assert all(calls == (1 if name == "ideal" else len(examples)) * CALLS
                       for name, (_, calls) in times.items()), times
            latencies = sorted(Wait.latency(e.id, c) for e in examples for c in range(CALLS))
            print(f"== {engine}: {args.episodes} episodes x 3 turns ({CALLS} calls of `wait` each: latency median "
                  f"{latencies[len(latencies) // 2]:.2f} s, max {latencies[-1]:.2f} s, sum {sum(latencies):.1f} s; "
                  f"the slowest episode waits {totals[slowest.id]:.2f} s), tiny policy, "
                  f"<= {args.max_new_tokens} tokens per turn")
            report(times, "ideal")
            best = "streaming"
            floor = max(times["ideal"][0], times["no waiting"][0])
            print(f"{best} / max(ideal, no waiting) {times[best][0] / floor:.2f}x")
            # lock-step's own floor: each turn lasts its slowest call, on top of the compute
            turns = sum(max(Wait.latency(e.id, c) for e in examples) for c in range(CALLS))
            print(f"lock-step / (no waiting + each turn's slowest call, {turns:.2f} s) "
                  f"{times['lock-step'][0] / (times['no waiting'][0] + turns):.2f}x")
            del trainer, rollout


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
        examples, rollout, trainer, _ = policy(registry, args.served, args, workdir)
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
