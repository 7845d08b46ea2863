"""Stage 2, multi-turn GRPO: `trl.GRPOTrainer`, with vista's rollout as its ``rollout_func``.

From TRL: the whole optimisation. Group-relative advantages (``scale_rewards``), the loss (``loss_type``: dapo,
grpo, dr_grpo, bnpo, cispo, sapo, luspo, vespo), clipping (``epsilon``, ``epsilon_high``, ``delta``), the KL
reference (``beta``; the adapters switched off under LoRA), ``num_iterations`` with the old policy's logprobs,
``steps_per_generation``, vLLM generation and weight sync with its importance-sampling correction, gradient
accumulation per device, schedulers, bf16, gradient checkpointing, checkpoints and resume, logging and
``report_to``, DDP/FSDP/DeepSpeed through accelerate. Every `trl.GRPOConfig` field means what TRL documents.

From vista: the episodes (`vista_trainer.rollout.EpisodeRollout`: `VistaEnv`, its parser, validation, E1-E6,
tools and reward; sampled ids, sampling logprobs, ``env_mask`` and images per episode), the reward function that
hands TRL the environment's reward (`episode_reward_function`), and the per-step metrics of the episodes
(accuracy, format, repetition, E1-E6, tool calls per tool) logged through TRL's ``log_metric``.

The one override, `VistaGRPOTrainer`: TRL 1.16's ``rollout_func`` path drops the rollout's images, and builds the
forward pass's pixel inputs for images inside completions only on its own tool-calling path. It could go upstream as
"rollout_func may return images": there it would be ``(self.tools or self.rollout_func is not None)`` in the two
conditions below. It relies on these lines of ``trl/trainer/grpo_trainer.py`` at 1.16.0 (pinned in
``pyproject.toml``; the tests fail if they move):

- ``_generate`` (2193-2322): on the ``rollout_func`` path every key of the output beyond ``prompt_ids``,
  ``completion_ids`` and ``logprobs`` lands in ``extra_fields`` (2216), ``env_mask`` becomes the tool mask (2272),
  and ``images`` is None (2218); it returns ``(prompt_ids, completion_ids, tool_mask, completions, logprobs,
  extra_fields, images, tool_images)``.
- ``_generate_and_score_completions``: the images ``_generate`` returns are used when not None (2437-2438); with
  ``self.tools and any(tool_images) and self._is_vlm``, the pixel inputs come from the image processor over every
  image of each sample (2513-2517) and ``mm_token_type_ids`` from the whole prompt + completion (2588-2629, with the
  check that each sample's image tokens match its image features). ``self.tools`` is read nowhere else between.

So the override moves the rollout's images from ``extra_fields`` to ``images`` / ``tool_images`` (a row without
images as ``[]``: InternVL's tile count, 2546-2553, calls the image processor on every row's list) and, for the rest
of that batch's scoring, lets ``self.tools`` read as true (an empty list that is truthy), then restores it. On that
path every key the image processor returns reaches ``_get_per_token_logps_and_entropies`` (2517, 2654), whose
signature has no ``num_patches`` (InternVL's) or ``batch_num_images`` (LLaVA-OneVision's): the override drops them.

Beside it, one workaround of transformers (5.24), not of TRL: `Trainer` resumes a checkpoint's weights with a raw
``load_state_dict(strict=False)`` that matches none of the keys ``save_pretrained`` writes for Qwen2.5-VL, so a
resumed run would silently restart from its first weights; `VistaGRPOTrainer._load_from_checkpoint` reads them
with ``from_pretrained`` instead (tested: the resumed weights equal the checkpoint's).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator, Sequence

from trl import GRPOTrainer
from vista.errors import VistaError

from . import vllm_cpu
from .checkpoints import complete_checkpoints
from .episodes import episode_metrics
from .generation import placeholder_ids
from .trl_setup import without_printer

log = logging.getLogger(__name__)

TRL_VERSION = "1.16.0"  # the version whose lines `VistaGRPOTrainer` relies on (see the module docstring)


class _ImagesInCompletions(list):
    """Stands in for TRL's (empty) tool list while a batch whose completions hold images is scored: truthy, so TRL
    builds pixel inputs for the images inside completions; empty, so no tool is ever called."""

    def __bool__(self) -> bool:
        return True


class VistaGRPOTrainer(GRPOTrainer):
    """`trl.GRPOTrainer` whose ``rollout_func`` may return ``images``: per completion, every image the sequence
    holds, in the order of its image tokens (prompt and completion); those pixels reach the loss's forward pass.
    With vLLM in colocate mode, the engine samples in the policy's dtype (`policy_dtype_engine`), and on vLLM's
    CPU build its weights follow the policy through `vista_trainer.vllm_cpu.sync_weights`."""

    def __init__(self, *args, **kwargs):
        model = kwargs.get("model", args[0] if args else None)
        with policy_dtype_engine(getattr(model, "dtype", None)):
            super().__init__(*args, **kwargs)
        if self.use_vllm and self.vllm_mode == "colocate" and vllm_cpu.is_cpu_build():
            generation = self.vllm_generation
            generation.sync_weights = functools.partial(vllm_cpu.sync_weights, generation)

    def _generate(self, prompts: list):
        result = list(super()._generate(prompts))
        extra_fields = result[5]
        images = extra_fields.pop("images", None) if self.rollout_func is not None else None
        if images is not None and any(images):
            # images, tool_images; a row without images is an empty list: TRL counts InternVL's tiles per row with
            # the image processor, which takes [] for a row and refuses None
            result[6] = result[7] = [list(i) if i else [] for i in images]
            self.tools = _ImagesInCompletions()
        return tuple(result)

    def _get_per_token_logps_and_entropies(self, *args, num_patches=None, batch_num_images=None, **kwargs):
        """TRL's, without the image processor's bookkeeping: on the path that builds pixel inputs for images inside
        completions, every key the image processor returns becomes a forward argument, and InternVL's returns the
        tiles per image beside the pixels (TRL counts them itself, as ``num_tiles``), LLaVA-OneVision's the images
        per prompt (one each for a flat list: every image tiled, as the rollout's processor calls tile them)."""
        return super()._get_per_token_logps_and_entropies(*args, **kwargs)

    def _generate_and_score_completions(self, inputs):
        tools = self.tools
        try:
            return super()._generate_and_score_completions(inputs)
        finally:
            self.tools = tools

    def _load_from_checkpoint(self, resume_from_checkpoint: str, model=None) -> None:
        """Resume the weights the way ``from_pretrained`` reads them. transformers 5.24's `Trainer` loads a
        checkpoint's raw tensors with ``load_state_dict(strict=False)``, but ``save_pretrained`` writes Qwen2.5-VL
        in the released key layout (``model.embed_tokens...``, not ``model.language_model.embed_tokens...``), so
        nothing would load and the run would resume from the weights it started with. Sharded and LoRA models keep
        the base class's loading (their own formats)."""
        target = model if model is not None else self.model
        if self.is_fsdp_enabled or self.is_deepspeed_enabled or hasattr(target, "peft_config"):
            return super()._load_from_checkpoint(resume_from_checkpoint, model)
        saved = type(target).from_pretrained(resume_from_checkpoint, dtype=target.dtype)
        target.load_state_dict(saved.state_dict(), strict=True)
        log.info("loaded the policy's weights from %s", resume_from_checkpoint)


@contextlib.contextmanager
def policy_dtype_engine(dtype) -> Iterator[None]:
    """While TRL builds its colocated vLLM engine, build it in ``dtype`` (the policy's). TRL 1.16 passes no dtype
    (``VLLMGeneration._init_vllm``, ``LLM(...)`` at trl/generation/vllm_generation.py 347), and vLLM's ``auto``
    casts a float32 checkpoint to bfloat16: the sampling logprobs would then differ from the loss's by 0.05-0.07
    per token on average. The name ``LLM`` of that module is wrapped for the block, then restored."""
    try:
        import trl.generation.vllm_generation as generation
    except ImportError:  # no vLLM: nothing to build
        yield
        return
    engine = getattr(generation, "LLM", None)
    if engine is None or dtype is None:
        yield
        return
    generation.LLM = functools.partial(engine, dtype=str(dtype).removeprefix("torch."), **vllm_cpu.engine_kwargs())
    try:
        yield
    finally:
        generation.LLM = engine


def training_metrics(trajectories: Sequence, tool_names: Sequence[str], unscored: int = 0,
                     faulted: int = 0) -> dict[str, float]:
    """The scored episodes' metrics as means TRL can average over processes and steps: `episode_metrics` with tool
    calls per episode (``tools/<name>``) and without ``reward`` (TRL logs it); beside them, over the whole batch,
    ``unscored_rate`` (``unscored`` episodes left unscored: their context filled up, or they met an environment
    fault) and ``environment_fault_rate`` (``faulted`` of them met a tool the environment failed: `ToolOutage`)."""
    metrics = episode_metrics(trajectories, tool_names)
    n = len(trajectories) or 1
    metrics.pop("reward")
    metrics = {k: v / n if k.startswith("tools/") else v for k, v in metrics.items()}
    batch = (len(trajectories) + unscored) or 1
    metrics["unscored_rate"] = unscored / batch
    metrics["environment_fault_rate"] = faulted / batch
    return metrics


class ToolOutage(VistaError):
    """Most of the episodes of too many consecutive rollout batches met environment faults: training on what is
    left would learn from a broken environment."""


class OutageWatch:
    """Environment faults across rollout batches: the first batch of an outage (an episode meeting a tool the
    environment failed: a server down, a timeout, a crash) is logged once with what failed, its end once with how
    many batches it lasted, and when most of the episodes of more than ``patience`` consecutive batches met one,
    training stops (`ToolOutage`) with a line saying what failed and how to resume."""

    def __init__(self, patience: int):
        self.patience = patience
        self.batches = 0  # consecutive batches with an environment fault
        self.severe = 0  # consecutive batches where most episodes met one

    def see(self, trajectories: Sequence) -> int:
        """Take one batch's trajectories; returns how many met an environment fault."""
        faults = [t.environment_faults for t in trajectories]
        faulted = sum(1 for f in faults if f)
        if not faulted:
            if self.batches:
                log.warning("tool outage over after %d rollout batch(es)", self.batches)
            self.batches = self.severe = 0
            return 0
        what = Counter(f"{e.tool}: {e.code}" for errors in faults for e in errors)
        summary = ", ".join(f"{k} x{n}" for k, n in what.most_common(3))
        if not self.batches:
            log.warning("tool outage: %d of %d episodes met a tool the environment failed (%s); they are left "
                        "unscored, not counted against the policy", faulted, len(trajectories), summary)
        self.batches += 1
        self.severe = self.severe + 1 if faulted * 2 > len(trajectories) else 0
        if self.severe > self.patience:
            raise ToolOutage(f"tool outage: most episodes of {self.severe} consecutive rollout batches met tools the "
                             f"environment failed ({summary}); bring the tools back, then resume from the last "
                             "checkpoint with the same command (--tool_outage_patience sets how long to wait)")
        return faulted


def episode_reward_function(name: str, tool_names: Sequence[str] = (), outage_patience: int = 8) -> Callable[..., list]:
    """A TRL reward function giving each completion its episode's reward (the rollout's ``episode_reward``; None
    for an episode left unscored: its context filled up, or it met an environment fault; TRL leaves it out of its
    group's baseline and gives it no advantage), watching for tool outages (`OutageWatch`) and logging the scored
    episodes' metrics (`training_metrics`) with TRL's ``log_metric``. Named after the vista reward."""
    watch = OutageWatch(outage_patience)

    def reward(prompts, completions, episode_reward, trajectory, log_metric=None, **kwargs) -> list:
        faulted = watch.see(trajectory)
        if log_metric is not None:
            scored = [t for t, r in zip(trajectory, episode_reward) if r is not None]
            for key, value in training_metrics(scored, tool_names, len(trajectory) - len(scored), faulted).items():
                log_metric(key, value)
        return list(episode_reward)

    reward.__name__ = name
    return reward


def metrics_callback(on_metrics: Callable[[dict], None]):
    """A `TrainerCallback` handing every log entry of the main process to ``on_metrics`` as a GRPO record."""
    from transformers import TrainerCallback

    class Forward(TrainerCallback):
        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and state.is_world_process_zero:
                on_metrics({"stage": "grpo", "step": state.global_step, **logs})

    return Forward()


def signal_watch(patience: int = 5):
    """A `TrainerCallback` saying, once, when GRPO has had no learning signal for ``patience`` steps in a row: in every
    group all the episodes earned the same reward (TRL's ``frac_reward_zero_std`` at 1.0), so every advantage and the
    loss are 0 and the policy does not move; and saying when the signal comes back. Typical after BC of a teacher
    that rarely uses the tools: the policy never samples them, and GRPO has nothing to tell apart."""
    from transformers import TrainerCallback

    class SignalWatch(TrainerCallback):
        def __init__(self):
            self.silent = 0  # steps in a row, as far as the logs tell, whose groups all had equal rewards
            self.warned = False

        def on_log(self, args, state, control, logs=None, **kwargs):
            if not logs or "frac_reward_zero_std" not in logs or not state.is_world_process_zero:
                return
            if logs["frac_reward_zero_std"] is None or logs["frac_reward_zero_std"] < 1.0:
                if self.warned:
                    log.warning("GRPO step %d: a learning signal again (%.0f%% of groups had equal rewards) after "
                                "%d steps without", state.global_step, 100 * (logs["frac_reward_zero_std"] or 0.0),
                                self.silent)
                self.silent, self.warned = 0, False
                return
            self.silent += max(1, args.logging_steps)
            if self.silent >= patience and not self.warned:
                self.warned = True
                calls = logs.get("tool_calls_per_episode")
                advice = ("every sampled episode was right: the tasks are learnt at this difficulty, and harder ones "
                          "(--difficulty) give GRPO more to learn" if logs.get("accuracy") == 1.0 else
                          "varied samples are what GRPO learns from: raise --temperature or --num_generations, or "
                          "give BC more tool episodes (--expert_tool_share)")
                log.warning("GRPO steps %d-%d had no learning signal: in every group all %d episodes earned the same "
                            "reward (mean %s), so the advantages and the loss are 0 and the policy does not change; "
                            "the sampled episodes call a tool %s times on average; %s", state.global_step - self.silent
                            + 1, state.global_step, args.num_generations,
                            "n/a" if logs.get("reward") is None else f"{logs['reward']:.2f}",
                            "n/a" if calls is None else f"{calls:.2f}", advice)

    return SignalWatch()


def check_trl_version() -> None:
    import trl

    if trl.__version__ != TRL_VERSION:
        log.warning("VistaGRPOTrainer was written against TRL %s and this is TRL %s: check the lines its docstring "
                    "names (vista_trainer.grpo) before trusting the images of multi-turn episodes", TRL_VERSION,
                    trl.__version__)


def build_trainer(model, codec, args, rollout, *, reward_name: str, tool_names: Sequence[str] = (),
                  peft_config=None, on_metrics: Callable[[dict], None] | None = None,
                  outage_patience: int = 8) -> VistaGRPOTrainer:
    """The GRPO trainer over ``rollout``'s examples. ``args`` is a `trl.GRPOConfig`; ``model`` a loaded policy
    (TRL builds the KL reference from its path, or switches the LoRA adapters off)."""
    check_trl_version()
    os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")  # rollout_func is TRL-experimental, used deliberately
    callbacks = [complete_checkpoints(), signal_watch()]
    callbacks += [metrics_callback(on_metrics)] if on_metrics is not None else []
    placeholders = sorted(placeholder_ids(codec.processor))
    if placeholders and not args.use_vllm:
        # TRL suppresses the image token; a sampled video token would as surely break the forward pass (video
        # features that do not exist), so neither is ever generated
        args.generation_kwargs = {"suppress_tokens": placeholders, **(args.generation_kwargs or {})}
    trainer = VistaGRPOTrainer(model=model, args=args, processing_class=codec.processor,
                               train_dataset=rollout.dataset(),
                               reward_funcs=[episode_reward_function(reward_name, tool_names, outage_patience)],
                               rollout_func=rollout, peft_config=peft_config, callbacks=callbacks)
    return without_printer(trainer)
