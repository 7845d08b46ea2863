"""GRPO's rollout: `VistaEnv` episodes played for `trl.GRPOTrainer`, token for token as the policy sampled them.

`EpisodeRollout` is the trainer's ``rollout_func``. TRL hands it this process's prompts (each already repeated
``num_generations`` times); each names one training example (`example_prompt`). Every example is played as a
`VistaEnv` episode: vista's parser, validation, E1-E6 attribution, tools and reward, unchanged. The live episodes
of the batch are stepped together, one batched generation per turn, and every tool call of a turn runs at once
(`EpisodeRollout.step_all`).

What comes back per episode is what the loss must see:

- ``prompt_ids``: the opening conversation (system prompt, question, image tokens) and the assistant header;
- ``completion_ids``: every turn's ids **as sampled** (never decoded and encoded again, so a turn cut at the token
  budget has no ``<|im_end|>`` it did not write, and a special token it sampled stays), with the environment's
  tokens between turns (closing the turn where the policy did not, the tool response, the next assistant header);
- ``env_mask``: 1 on the policy's tokens, 0 on the environment's;
- ``logprobs``: per completion token, the log-probability the policy gave the sampled token at the sampling
  temperature (what TRL's loss computes; 0 on environment tokens). With transformers, read off the logits the
  generation computed (the output head's forward hook, gathered once the token is known); with vLLM, vLLM's;
- ``images``: every image the episode showed, in the order of their image tokens (prompt and tool responses); none
  for a text-only policy (its codec writes images as text placeholders, so no pixels reach TRL);
- ``episode_reward`` and ``trajectory``: the environment's reward and trajectory, for the reward function.

The decoded text of a turn is what the environment reads. Each turn's token budget is its own: the configured
``max_completion_length`` (tokens per turn) or the room left in ``max_length``, whichever is smaller, so one long
episode never shortens another's turns. An episode whose context is full ends there (the environment is told of
empty turns until it ends the episode) unscored: its reward is None, which TRL leaves out of its group's baseline,
with no advantage; one whose opening alone does not fit has no policy token either. So is an episode that met a tool
the environment failed (a server unreachable or answering 5xx, a timeout, a crash, missing weights:
`vista.errors.ENVIRONMENT_FAULT_CODES`; its trajectory says ``environment_fault``): the policy's continuation after
a failure it did not cause would be scored as its mistake, teaching it to avoid the tool. Its own faults (E1-E5) stay
a learning signal.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import replace

import vista
from vista.execution import ToolExecutor
from vista.trajectory_log import to_chat

from .codec import IM_END, ChatCodec, rgb_image
from .episodes import StepTogether, TokenEpisode
from .generation import (
    BatchStream,
    Generate,
    any_process,
    needs_lockstep,
    placeholder_ids,
    streams,
    transformers_generate,
    vllm_generate,
)

EXAMPLE_PROMPT = re.compile(r"^\[vista example (\d+)\]")


def example_prompt(index: int, example: vista.Example) -> str:
    """The dataset prompt naming training example ``index`` (readable in TRL's completion logs)."""
    return f"[vista example {index}] {example.task}: {example.question}"


class EpisodeRollout:
    """``rollout_func`` for `trl.GRPOTrainer`: plays ``examples[i]`` for every prompt `example_prompt` made.

    ``env_kwargs`` go to every `VistaEnv` (tools, reward, max_turns, split); ``system_prompt(task)`` gives a task's
    system prompt template (None: the core's). ``generate`` replaces the trainer's generation (tests script turns
    with it); by default transformers, or vLLM where the trainer uses it. ``streaming``: whether episodes advance on
    their own (`play`); None: with vLLM colocated only. ``lockstep`` (None: where generation is collective) forces
    one batched generation per turn on every process."""

    def __init__(self, examples: Sequence[vista.Example], codec: ChatCodec, *, registry: vista.Registry,
                 env_kwargs: dict, system_prompt: Callable[[str], str | None] = lambda task: None,
                 generate: Generate | None = None, executor: ToolExecutor | None = None,
                 lockstep: bool | None = None, streaming: bool | None = None):
        self.examples = list(examples)
        self.lockstep = lockstep
        self.streaming = streaming
        self.codec = codec
        self.registry = registry
        self.env_kwargs = dict(env_kwargs)
        self.system_prompt = system_prompt
        self.generate = generate
        # a thread per call in flight up to 64: the threads mostly wait (on a server, a model, a sleep); the
        # per-tool limits (8 calls of one tool at once by default) are what bound the tools
        self.executor = executor or ToolExecutor(max_workers=64)
        tokenizer = codec.tokenizer
        self.im_end = tokenizer.convert_tokens_to_ids(IM_END)
        self.newline = tokenizer("\n")["input_ids"]
        self.sampled_tokens = 0  # every policy token generated, for throughput figures
        self.plays = 0  # batches played with `play_streaming`
        self.steps = StepTogether()  # where a turn's tool calls run (`step_all`), one event loop for the rollout's life

    def dataset(self):
        """The training dataset TRL draws prompts from: one row per example."""
        from datasets import Dataset

        return Dataset.from_dict({"prompt": [example_prompt(i, e) for i, e in enumerate(self.examples)]})

    def example_for(self, prompt) -> vista.Example:
        text = prompt if isinstance(prompt, str) else prompt[-1]["content"]
        match = EXAMPLE_PROMPT.match(text if isinstance(text, str) else "")
        if match is None or int(match.group(1)) >= len(self.examples):
            raise ValueError(f"GRPO prompt {str(text)[:80]!r} names no example of this rollout: train on the "
                             "dataset EpisodeRollout.dataset() makes")
        return self.examples[int(match.group(1))]

    # ---- TRL's rollout_func -----------------------------------------------------------------------------------
    def __call__(self, prompts: list, trainer) -> dict:
        episodes = self.play([self.example_for(p) for p in prompts], trainer)
        # TRL needs a token per completion: an episode that never had room for a turn is one token of prompt and one
        # of completion, masked out, with no image (its reward is None: no advantage, no baseline)
        stub = [trainer.eos_token_ids[0]]
        return {
            "prompt_ids": [e.prompt_ids if e.completion_ids else stub for e in episodes],
            "completion_ids": [e.completion_ids or stub for e in episodes],
            "logprobs": [e.logprobs or [0.0] for e in episodes],
            "env_mask": [e.env_mask or [0] for e in episodes],
            "images": [e.images if e.completion_ids else [] for e in episodes],
            "episode_reward": [e.reward for e in episodes],
            "trajectory": [e.trajectory for e in episodes],
        }

    def play(self, examples: Sequence[vista.Example], trainer) -> list[TokenEpisode]:
        """The episodes of ``examples``, played to their end. Episodes advance on their own (`play_streaming`) with
        vLLM colocated (`streams`) unless ``streaming`` is False, and with any other engine when ``streaming`` is
        True; else in lock step, one batched generation per turn (always where generation is collective)."""
        lockstep = needs_lockstep(trainer) if self.lockstep is None else self.lockstep
        generate = self.generate or (vllm_generate if trainer.use_vllm
                                     else functools.partial(transformers_generate, synced=lockstep))
        if not lockstep and self.streaming is not False:
            if self.generate is None and streams(trainer):
                return self.play_streaming(examples, trainer)
            if self.streaming:
                return self.play_streaming(examples, trainer, BatchStream(trainer, generate))
        episodes = [self.start(example) for example in examples]
        budget, limit = trainer.args.max_completion_length, self.codec.max_length
        placeholders = placeholder_ids(trainer.processing_class)
        while True:
            live = [e for e in episodes if not e.done]
            for episode in [e for e in live if limit - len(e.ids) < 1]:
                self.abandon(episode)
            live = [e for e in live if not e.done]
            if lockstep:  # every process generates as often as the busiest: sharded weights gather collectively
                if not any_process(trainer, bool(live)):
                    return episodes
                if not live:  # this process is done: one throw-away token on its first opening keeps it in step
                    first = episodes[0]
                    generate(trainer, [replace(first, completion_ids=[], image_inputs=first.image_inputs[:1])], [1])
                    continue
            elif not live:
                return episodes
            budgets = [min(budget, limit - len(e.ids)) for e in live]
            turns = generate(trainer, live, budgets)
            kept = [self.policy_part(ids, logprobs, placeholders) for ids, logprobs in zip(turns.ids, turns.logprobs)]
            outcomes = self.step_all(live, [ids for ids, _ in kept])
            for episode, (ids, logprobs), outcome in zip(live, kept, outcomes):
                self.absorb(episode, ids, logprobs, outcome)

    def play_streaming(self, examples: Sequence[vista.Example], trainer, stream=None) -> list[TokenEpisode]:
        """Every episode advances on its own (``stream``: the colocated vLLM engine, `VllmStream`, by default; or a
        batch engine as `BatchStream`): a finished turn goes to its environment at once (its tools run in a thread,
        within the executor's per-tool limits) while the engine goes on sampling the others, and the episode's next
        turn is submitted as soon as its environment has answered, not when the batch's slowest tool has. The
        episodes that come back are what `play` returns."""
        from .generation import VllmStream

        self.plays += 1
        stream = stream or VllmStream(trainer)
        episodes = [self.start(example) for example in examples]
        budget, limit = trainer.args.max_completion_length, self.codec.max_length
        placeholders = placeholder_ids(trainer.processing_class)

        def next_turn(index: int) -> None:
            episode = episodes[index]
            if limit - len(episode.ids) < 1:
                self.abandon(episode)
            else:
                stream.submit(index, episode, min(budget, limit - len(episode.ids)))

        stepping: dict[Future, tuple[int, list[int], list[float]]] = {}
        with ThreadPoolExecutor(max_workers=min(64, len(episodes)) or 1, thread_name_prefix="vista-env") as pool:
            for index in range(len(episodes)):
                next_turn(index)
            while stream.busy or stepping:
                for index, ids, logprobs in stream.step() if stream.busy else []:
                    ids, logprobs = self.policy_part(ids, logprobs, placeholders)
                    text = self.codec.tokenizer.decode(ids, skip_special_tokens=True)
                    stepping[pool.submit(episodes[index].env.step, text)] = (index, ids, logprobs)
                ready = [f for f in stepping if f.done()]
                if not ready and stepping and not stream.busy:  # nothing to sample: wait for a tool
                    ready = list(wait(stepping, return_when=FIRST_COMPLETED).done)
                for future in sorted(ready, key=lambda f: stepping[f][0]):
                    index, ids, logprobs = stepping.pop(future)
                    self.absorb(episodes[index], ids, logprobs, future.result())
                    if not episodes[index].done:
                        next_turn(index)
        return episodes

    def policy_part(self, ids: Sequence[int], logprobs: Sequence[float], placeholders: set[int]):
        """The part of a sampled turn the episode keeps, counted in ``sampled_tokens``: a sampled image/video
        placeholder would have no pixels, so the turn ends before it (the sampled prefix: still on-policy)."""
        stop = next((i for i, t in enumerate(ids) if t in placeholders), len(ids))
        self.sampled_tokens += stop
        return list(ids[:stop]), list(logprobs[:stop])

    def start(self, example: vista.Example) -> TokenEpisode:
        task = self.registry.task(example.task)
        env = vista.VistaEnv(task, registry=self.registry, executor=self.executor,
                             system_prompt=self.system_prompt(task.name), **self.env_kwargs)
        observation, _ = env.reset(options={"example": example})
        chat = to_chat(observation["messages"], observation["images"])
        encoded = self.codec.encode(chat["messages"], chat["images"], generation_prompt=True)
        images = [] if self.codec.text_only else [rgb_image(i) for i in chat["images"]]
        return TokenEpisode(env=env, prompt_ids=encoded.input_ids, images=images,
                            image_inputs=[encoded.image_inputs] if encoded.image_inputs else [],
                            messages_seen=len(observation["messages"]))

    def step_all(self, episodes: Sequence[TokenEpisode], turns: Sequence[list[int]]) -> list[tuple]:
        """Each environment plays its decoded turn, all at once (`episodes.StepTogether`: every tool call of the
        batch runs concurrently; the outcomes come back in the episodes' order, whatever finished first)."""
        texts = [self.codec.tokenizer.decode(ids, skip_special_tokens=True) for ids in turns]
        return self.steps([e.env for e in episodes], texts)

    def absorb(self, episode: TokenEpisode, ids: list[int], logprobs: list[float], outcome: tuple) -> None:
        """The sampled ids join the completion, then the environment's answer (``outcome``, its step's return) as
        tokens: the turn's closing, the tool response (images expanded), the next assistant header."""
        observation, reward, terminated, truncated, info = outcome
        episode.completion_ids += ids
        episode.env_mask += [1] * len(ids)
        episode.logprobs += list(logprobs)
        episode.bridge = None
        if terminated or truncated:
            episode.trajectory, episode.reward = info["trajectory"], float(reward)
            if episode.trajectory.environment_faults:  # a server down, a timeout, a crash: not the policy's doing
                episode.trajectory.metadata["environment_fault"] = True
                episode.reward = None
            return
        # the messages after the assistant message the environment recorded for this turn
        chat = to_chat(observation["messages"][episode.messages_seen + 1:], observation["images"])
        encoded = self.codec.encode(chat["messages"], chat["images"], generation_prompt=True)
        closing = self.newline if ids and ids[-1] == self.im_end else [self.im_end, *self.newline]
        episode.bridge = (len(episode.completion_ids), len(episode.images), len(episode.image_inputs))
        tokens = closing + encoded.input_ids
        episode.completion_ids += tokens
        episode.env_mask += [0] * len(tokens)
        episode.logprobs += [0.0] * len(tokens)
        if not self.codec.text_only:
            episode.images += [rgb_image(i) for i in chat["images"]]
        if encoded.image_inputs:
            episode.image_inputs.append(encoded.image_inputs)
        episode.messages_seen = len(observation["messages"])

    def abandon(self, episode: TokenEpisode) -> None:
        """The context is full: the environment ends the episode on empty turns. The last environment tokens, which
        no turn follows, leave the completion, and the episode is left unscored (reward None: the context's limit,
        not the policy, ended it; the environment would score the missing answer as a format failure), as TRL's
        ``mask_truncated_completions`` leaves out a completion cut at its budget. Its trajectory says
        ``context_full``."""
        if episode.bridge is not None:
            length, images, chunks = episode.bridge
            del episode.completion_ids[length:], episode.env_mask[length:], episode.logprobs[length:]
            del episode.images[images:], episode.image_inputs[chunks:]
        while True:
            _, _, terminated, truncated, info = episode.env.step("")
            if terminated or truncated:
                break
        episode.trajectory = info["trajectory"]
        episode.trajectory.metadata["context_full"] = True
        episode.reward = None
