"""Generation engines of GRPO's rollout: one turn for many episodes, the ids as sampled with their logprobs.

- `transformers_generate`: transformers' ``generate`` on the trainer's model, as TRL generates (its generation
  config and unwrapping; lock-step across processes where weights are sharded), the logprobs read off the logits it
  computed (`LogprobRecorder`).
- `vllm_generate`: TRL's vLLM engine (colocate or server), one batched call per turn, vLLM's logprobs.
- `VllmStream`: the colocated vLLM engine driven request by request, so that an episode's next turn is submitted as
  soon as its tool has answered (`EpisodeRollout.play` uses it where it applies).

Each image reaches vLLM once, in the form vLLM expects (`collapse_image_runs`), and the prompt vLLM ran is checked
against the episode's ids (`VllmPromptMismatch`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from transformers import StoppingCriteria, StoppingCriteriaList

from .codec import Encoded, collate, join_image_inputs, tokenizer_of
from .episodes import TokenEpisode


@dataclass
class Turns:
    """A batch of generated turns: the sampled ids and their logprobs at the sampling temperature, per row."""

    ids: list[list[int]]
    logprobs: list[list[float]]


# generate(trainer, episodes, budgets) -> Turns: one turn per episode, at most budgets[i] tokens for row i
Generate = Callable[[object, Sequence[TokenEpisode], Sequence[int]], Turns]


class LogprobRecorder(StoppingCriteria):
    """Records, at every generation step, the log-probability of the sampled token at ``temperature`` under the
    logits the model computed: the output head's forward hook keeps the last position's log-softmax, and this
    stopping criterion (called once the step's token is appended) gathers the token's entry. Only one step's
    distribution is held at a time. It never stops generation."""

    def __init__(self, temperature: float):
        self.temperature = temperature
        self.current: torch.Tensor | None = None
        self.steps: list[torch.Tensor] = []

    def on_logits(self, module, inputs, output) -> None:
        self.current = torch.log_softmax(output[:, -1, :].float() / self.temperature, dim=-1)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs) -> torch.Tensor:
        self.steps.append(self.current.gather(-1, input_ids[:, -1:]).squeeze(-1))
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)

    def result(self) -> torch.Tensor:
        return torch.stack(self.steps, dim=1).cpu() if self.steps else torch.zeros(0, 0)


def placeholder_ids(processor) -> set[int]:
    """The image/video placeholder tokens of ``processor``: a turn must never contain one (no pixels stand behind)."""
    return {i for i in (getattr(processor, "image_token_id", None), getattr(processor, "video_token_id", None))
            if i is not None}


def needs_lockstep(trainer) -> bool:
    """Whether generation is collective across processes: sharded weights gathered per forward or per call."""
    return bool(getattr(trainer, "is_fsdp_enabled", False) or getattr(trainer, "is_deepspeed_enabled", False)
                or (trainer.use_vllm and trainer.args.vllm_tensor_parallel_size > 1))


def any_process(trainer, flag: bool) -> bool:
    """``flag`` or-ed over every training process."""
    accelerator = trainer.accelerator
    if accelerator.num_processes == 1:
        return flag
    return bool(accelerator.reduce(torch.tensor([int(flag)], device=accelerator.device), "sum").item())


def generation_inputs(episodes: Sequence[TokenEpisode], pad_id: int, image_token_id: int | None) -> dict:
    """Left-padded ids of every episode so far with the pixels of every image they hold (`collate`'s batch, so
    Qwen-VL's image tokens get the same 3-D rotary positions as in SFT and in TRL's forward pass)."""
    encoded = [Encoded(e.ids, [0] * len(e.ids), join_image_inputs(e.image_inputs)) for e in episodes]
    batch = collate(encoded, pad_id, left=True, image_token_id=image_token_id)
    return {k: v for k, v in batch.items() if k not in ("labels", "policy_mask")}


def cut(ids: Sequence[int], logprobs: Sequence[float], eos: set[int], budget: int) -> tuple[list[int], list[float]]:
    """A generated row up to its first end-of-turn token (kept), at most ``budget`` tokens."""
    ids, logprobs = list(ids), list(logprobs)
    for i, token in enumerate(ids):
        if token in eos:
            ids, logprobs = ids[:i + 1], logprobs[:i + 1]
            break
    return ids[:budget], logprobs[:budget]


@contextmanager
def lora_folded(model, *, sharded: bool) -> Iterator[None]:
    """A PEFT model's LoRA adapters folded into their base weights for the duration, unfolded after (as TRL does
    around vLLM's weight sync): every generated token then runs one matmul per adapted layer instead of three
    (SmolLM2-135M on CPU: 0.9x the sampling time, bench/trainer_smollm2_costs.py). Only for float32 base weights on
    one process: unfolding returns a float32 weight to within a rounding step of what it was, where bfloat16's
    coarser steps would let the frozen weights drift a little at every turn; sharded weights are never whole on one
    process."""
    from peft import PeftModel

    base = model.get_base_model() if isinstance(model, PeftModel) else None
    fold = (base is not None and not sharded and base.dtype == torch.float32
            and not any(getattr(m, "merged", False) for m in model.modules()))
    if fold:
        model.merge_adapter()
    try:
        yield
    finally:
        if fold:
            model.unmerge_adapter()


def transformers_generate(trainer, episodes: Sequence[TokenEpisode], budgets: Sequence[int], *,
                          synced: bool | None = None) -> Turns:
    """One turn per episode with transformers' ``generate`` on the trainer's model, as TRL generates: its
    generation config (temperature, top_p, top_k, min_p, repetition penalty, suppressed image token), its unwrapping
    for generation (DeepSpeed/FSDP gathering, gradient checkpointing off). ``synced`` (default: `needs_lockstep`)
    keeps every process stepping until all are done, as sharded weights need."""
    from trl.distributed import DistributedBackend
    from trl.models import unwrap_model_for_generation

    tokenizer = tokenizer_of(trainer.processing_class)
    inputs = generation_inputs(episodes, tokenizer.pad_token_id,
                               getattr(trainer.processing_class, "image_token_id", None))
    inputs = {k: v.to(trainer.accelerator.device) for k, v in inputs.items()}
    config = copy.deepcopy(trainer.generation_config)
    config.max_new_tokens = max(budgets)
    recorder = LogprobRecorder(trainer.temperature)
    args = trainer.args
    synced = needs_lockstep(trainer) if synced is None else synced
    with (unwrap_model_for_generation(trainer.model_wrapped, trainer.accelerator,
                                      gather_deepspeed3_params=args.ds3_gather_for_generation,
                                      generation_kwargs=trainer.generation_kwargs,
                                      gradient_checkpointing_kwargs=args.gradient_checkpointing_kwargs) as model,
          torch.no_grad(),
          DistributedBackend(trainer.accelerator).summon_full_params(trainer.model_wrapped, recurse=False),
          lora_folded(model, sharded=synced)):
        was_training = model.training
        model.eval()
        hook = model.get_output_embeddings().register_forward_hook(recorder.on_logits)
        try:
            out = model.generate(**inputs, generation_config=config, synced_gpus=synced,
                                 stopping_criteria=StoppingCriteriaList([recorder]))
        finally:
            hook.remove()
            model.train(was_training)
    new = out[:, inputs["input_ids"].shape[1]:].cpu().tolist()
    logprobs = recorder.result().tolist()
    eos = set(trainer.eos_token_ids)
    rows = [cut(ids, lps, eos, budget) for ids, lps, budget in zip(new, logprobs, budgets)]
    return Turns([r[0] for r in rows], [r[1] for r in rows])


def vllm_generate(trainer, episodes: Sequence[TokenEpisode], budgets: Sequence[int]) -> Turns:
    """One turn per episode with TRL's vLLM engine (colocate or server; TRL syncs the weights before the
    rollout), sampling as configured; vLLM's logprobs of the sampled tokens come back with them.

    Each image reaches vLLM once, in the form its mode expects. In colocate mode the prompt carries one placeholder
    token per image (`collapse_image_runs`), which vLLM expands from the image itself; the prompt vLLM then ran
    must be the episode's ids token for token (else the sampling would be off-policy: `VllmPromptMismatch`). In
    server mode TRL's client places the image features at the runs of image tokens, so the ids go as they are."""
    engine = trainer.vllm_generation
    images = [list(e.images) or None for e in episodes]
    image_token, brackets = vllm_image_form(trainer.processing_class)
    colocate = engine.mode == "colocate"
    prompts = [collapse_image_runs(e.ids, image_token, brackets) if colocate else e.ids for e in episodes]
    configured = engine.max_completion_length
    engine.max_completion_length = max(budgets)
    try:
        ran, completions, logprobs, _ = engine.generate(prompts=prompts, images=images if any(images) else None,
                                                        num_generations=1)
    finally:
        engine.max_completion_length = configured
    if colocate:
        for episode, prompt in zip(episodes, ran):
            VllmPromptMismatch.check(episode.ids, prompt, image_token)
    eos = set(trainer.eos_token_ids)
    rows = [cut(ids, [lp[0] for lp in lps], eos, budget) for ids, lps, budget in zip(completions, logprobs, budgets)]
    return Turns([r[0] for r in rows], [r[1] for r in rows])


def collapse_image_runs(ids: Sequence[int], image_token: int | None,
                        brackets: tuple[int, int] | None = None) -> list[int]:
    """``ids`` with every run of ``image_token`` (one image's expanded placeholder) written as one token; with
    ``brackets`` (start, end), those tokens around a run go too (vLLM writes them itself: `vllm_image_form`)."""
    if image_token is None:
        return list(ids)
    out = [t for i, t in enumerate(ids) if t != image_token or i == 0 or ids[i - 1] != image_token]
    if brackets is None:
        return out
    start, end = brackets
    return [t for i, t in enumerate(out)
            if not (t == start and i + 1 < len(out) and out[i + 1] == image_token)
            and not (t == end and i > 0 and out[i - 1] == image_token)]


def vllm_image_form(processor) -> tuple[int | None, tuple[int, int] | None]:
    """How vLLM is given an image in a prompt: the processor's image token, written once per image, and the tokens
    around each image's run that vLLM writes itself from it (InternVL's ``<img>`` and ``</img>``: its processor
    brackets each image's tokens with them, and vLLM's InternVL module expands the placeholder into the same
    bracketed run). None where there is no such token."""
    image_token = getattr(processor, "image_token_id", None)
    start, end = getattr(processor, "start_image_token_id", None), getattr(processor, "end_image_token_id", None)
    return image_token, ((start, end) if start is not None and end is not None else None)


class VllmPromptMismatch(RuntimeError):
    """vLLM expanded an episode's images into other image tokens than the trainer's processor did."""

    def __init__(self, ours: list[int], theirs: list[int], image_token: int | None):
        count = (lambda ids: sum(t == image_token for t in ids)) if image_token is not None else len
        super().__init__(f"vLLM sampled from a prompt of {len(theirs)} tokens ({count(theirs)} image tokens) where the "
                         f"episode holds {len(ours)} ({count(ours)} image tokens): its image processor resizes "
                         "images differently from the trainer's; save the policy with the run's processor "
                         "(save_policy) so that both read the same min_pixels/max_pixels")

    @classmethod
    def check(cls, ours: list[int], theirs: Sequence[int], image_token: int | None) -> None:
        """Raise unless the prompt vLLM ran (``theirs``, images expanded by vLLM) is the episode's, token for token."""
        if list(theirs) != ours:
            raise cls(ours, list(theirs), image_token)


def streams(trainer) -> bool:
    """Whether the trainer's engine can advance episodes one by one (`VllmStream`): vLLM colocated in this process,
    one tensor-parallel rank, no sleep mode (TRL wakes and sleeps the engine around its own batched call)."""
    generation = getattr(trainer, "vllm_generation", None) if getattr(trainer, "use_vllm", False) else None
    return (generation is not None and generation.mode == "colocate" and generation.tensor_parallel_size == 1
            and not generation.enable_sleep_mode)


class VllmStream:
    """The colocated vLLM engine driven request by request: `submit` queues one episode's next turn, `step` runs one
    engine step and returns the turns that finished in it, each as ``(key, ids, logprobs)`` cut to its budget and
    first end-of-turn token. Sampling is TRL's (its temperature, top-p, top-k, min-p, repetition penalty,
    ``generation_kwargs``, vLLM's processed logprobs). No seed per request: the CPU build fails on seeded requests
    once it preempts one ("CPU Generator does not use offset", vLLM 0.32), so, as in TRL's batched call, what an
    episode samples depends on the engine's draws, not on the episode alone."""

    def __init__(self, trainer):
        from vllm import SamplingParams
        from vllm.sampling_params import StructuredOutputsParams

        generation = trainer.vllm_generation
        self.engine = generation.llm.llm_engine
        self.image_token, self.brackets = vllm_image_form(trainer.processing_class)
        self.eos = set(trainer.eos_token_ids)
        kwargs = dict(n=1, repetition_penalty=generation.repetition_penalty, temperature=generation.temperature,
                      top_p=generation.top_p, top_k=generation.top_k, min_p=generation.min_p or 0.0,
                      logprobs=generation.logprobs)
        kwargs.update(generation.generation_kwargs)
        if isinstance(kwargs.get("structured_outputs"), dict):  # as TRL reads it
            kwargs["structured_outputs"] = StructuredOutputsParams(**kwargs["structured_outputs"])
        if generation.structured_outputs_regex is not None:
            kwargs["structured_outputs"] = StructuredOutputsParams(regex=generation.structured_outputs_regex)
        self.params, self.sampling = kwargs, SamplingParams
        self.requests: dict[str, tuple[object, TokenEpisode, int]] = {}
        self.submitted = 0

    @property
    def busy(self) -> bool:
        return bool(self.requests)

    def submit(self, key, episode: TokenEpisode, budget: int) -> None:
        prompt = {"prompt_token_ids": collapse_image_runs(episode.ids, self.image_token, self.brackets)}
        if episode.images:
            prompt["multi_modal_data"] = {"image": list(episode.images) if len(episode.images) > 1
                                          else episode.images[0]}
        request = f"vista-{id(self)}-{self.submitted}"
        params = self.sampling(**self.params, max_tokens=budget)
        self.submitted += 1
        self.engine.add_request(request, prompt, params)
        self.requests[request] = (key, episode, budget)

    def step(self) -> list[tuple[object, list[int], list[float]]]:
        finished = []
        for output in self.engine.step():
            if not output.finished or output.request_id not in self.requests:
                continue
            key, episode, budget = self.requests.pop(output.request_id)
            VllmPromptMismatch.check(episode.ids, output.prompt_token_ids, self.image_token)
            sample = output.outputs[0]
            logprobs = [entry[token].logprob for token, entry in zip(sample.token_ids, sample.logprobs)]
            finished.append((key, *cut(sample.token_ids, logprobs, self.eos, budget)))
        return finished


class BatchStream:
    """A batch engine (``generate(trainer, episodes, budgets) -> Turns``: transformers' `transformers_generate`, or
    any generate function) driven as `VllmStream` is: `submit` queues an episode's next turn, `step` samples every
    queued turn in one batched call and returns them all. Under `EpisodeRollout.play_streaming` an episode's next
    turn waits only for its own tools and for the batch being sampled when they answer; the batches are the
    episodes that became ready meanwhile. What a turn samples then depends on which episodes share its batch, i.e.
    on the tools' timing: not reproducible from a seed, which is why lock-step stays the default on this engine."""

    def __init__(self, trainer, generate: Callable):
        self.trainer, self.generate = trainer, generate
        self.queued: list[tuple[object, TokenEpisode, int]] = []
        self.batches = 0  # batched calls made, for figures

    @property
    def busy(self) -> bool:
        return bool(self.queued)

    def submit(self, key, episode: TokenEpisode, budget: int) -> None:
        self.queued.append((key, episode, budget))

    def step(self) -> list[tuple[object, list[int], list[float]]]:
        batch, self.queued = self.queued, []
        turns = self.generate(self.trainer, [episode for _, episode, _ in batch], [budget for *_, budget in batch])
        self.batches += 1
        return [(key, list(ids), list(logprobs)) for (key, _, _), ids, logprobs in zip(batch, turns.ids,
                                                                                      turns.logprobs)]
