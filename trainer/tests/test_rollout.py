"""GRPO's rollout plays a turn's tool calls at once: the same episodes as one call at a time, in the time of the
slowest call rather than the sum (the toy plugin's ``pause`` tool waits as long as it is told)."""

import json
import time

from test_grpo import trainer_for
from vista.execution import ToolExecutor
from vista_trainer.codec import IM_END
from vista_trainer.generation import Turns

ENV = {"tools": ["pause"], "max_turns": 2, "reward": "brevity"}


def pausing(seconds_of):
    """A policy that calls ``pause`` for ``seconds_of[example id]`` seconds, then answers."""

    def generate(trainer, episodes, budgets):
        tokenizer = trainer.processing_class.tokenizer
        texts = [f"<tool_call>{json.dumps({'name': 'pause', 'arguments': {'seconds': seconds_of[e.env.example.id]}})}"
                 f"</tool_call>{IM_END}" if e.env.turn == 0 else f"<answer>3</answer>{IM_END}" for e in episodes]
        ids = [tokenizer(t)["input_ids"] for t in texts]
        return Turns(ids, [[0.0] * len(i) for i in ids])

    return generate


def play(trainer, rollout, executor):
    rollout.executor = executor
    started = time.perf_counter()
    episodes = rollout.play(rollout.examples, trainer)
    return episodes, time.perf_counter() - started


def test_calls_that_finish_in_reverse_order_give_the_serial_rollouts_episodes(policy_dir, registry, tmp_path):
    trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path, env=ENV)
    examples = rollout.examples[:6]
    rollout.examples = examples
    seconds = {e.id: round(0.3 - 0.05 * i, 2) for i, e in enumerate(examples)}  # the last call finishes first
    rollout.generate = pausing(seconds)
    at_once, _ = play(trainer, rollout, ToolExecutor())
    one_by_one, _ = play(trainer, rollout, ToolExecutor(default_limit=1))
    for a, b in zip(at_once, one_by_one, strict=True):
        assert a.env.example.id == b.env.example.id
        assert (a.prompt_ids, a.completion_ids, a.env_mask, a.reward) == \
            (b.prompt_ids, b.completion_ids, b.env_mask, b.reward)
        calls = [c.output_text for c in a.trajectory.steps[0].tool_calls]
        assert calls == [c.output_text for c in b.trajectory.steps[0].tool_calls]
        assert calls == [f"paused {seconds[a.env.example.id]} s"]


def test_a_turns_calls_all_run_together(policy_dir, registry, tmp_path):
    """The 8 calls of a turn were all running at once (the tool counts the calls in flight): the turn lasts its
    slowest call, not the sum (bench/rollout_throughput.py measures the times)."""
    trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path, env=ENV)
    rollout.generate = pausing({e.id: 0.5 for e in rollout.examples})
    pause = registry.tools["pause"]
    pause.most_at_once = 0
    episodes, _ = play(trainer, rollout, ToolExecutor(default_limit=8))
    assert len(episodes) == 8 and all(e.trajectory.steps[0].tool_calls[0].valid for e in episodes)
    assert pause.most_at_once == 8


def test_streaming_on_a_batch_engine_samples_the_ready_episodes_without_waiting_for_a_slow_tool(policy_dir, registry,
                                                                                               tmp_path):
    """``streaming=True`` with a batch engine (`BatchStream`): the episodes whose tools answered at once take their
    next turn while one episode's tool is still running; the episodes are the lock-step rollout's."""
    trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path, env=ENV)
    examples = rollout.examples[:4]
    rollout.examples = examples
    slow = examples[0].id
    scripted = pausing({e.id: 1.0 if e.id == slow else 0.0 for e in examples})
    batches = []

    def generate(trainer, episodes, budgets):
        batches.append(sorted((e.env.example.id, e.env.turn) for e in episodes))
        return scripted(trainer, episodes, budgets)

    rollout.generate = generate
    lockstep, _ = play(trainer, rollout, ToolExecutor())
    assert len(batches) == 2  # a turn each: the calls, then the answers
    batches.clear()
    rollout.streaming = True
    streamed, _ = play(trainer, rollout, ToolExecutor())
    assert batches[0] == sorted((e.id, 0) for e in examples)
    answered_first = next(b for b in batches[1:] if any(turn == 1 for _, turn in b))
    assert (slow, 1) not in answered_first  # the fast episodes answered while the slow tool ran
    assert batches[-1] == [(slow, 1)]
    for a, b in zip(streamed, lockstep, strict=True):
        assert (a.env.example.id, a.prompt_ids, a.completion_ids, a.env_mask, a.reward) == \
            (b.env.example.id, b.prompt_ids, b.completion_ids, b.env_mask, b.reward)
