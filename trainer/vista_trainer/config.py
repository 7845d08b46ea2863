"""The run configuration, in TRL's style: one dataclass, every field documented once in its ``help``, cross-field
checks in `validate` raising ``ValueError`` that says how to fix it. Read from the command line and/or a YAML file
(``--config run.yaml``; command-line flags win) by `trl.TrlParser`. `vista_trainer.trl_setup` turns it into TRL's
configurations.

A preset (`vista_trainer.presets`) fills every field the user did not set. A field the user
sets keeps its value even when that value is the field's default (``--preset qwen2.5-vl-7b --use_vllm false
--expert oracle``): the command line and YAML file say which fields were set (`explicit_fields`), and in Python
`VistaTrainConfig.from_preset` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from . import vllm_cpu
from .presets import PRESETS

ABLATIONS = ("full", "no_rl", "no_tools")
# TRL's GRPOConfig field -> the flag of ours that sets it
GRPO_FLAGS = {
    "max_steps": "grpo_steps", "learning_rate": "grpo_learning_rate", "lr_scheduler_type": "grpo_lr_scheduler_type",
    "num_generations": "num_generations", "per_device_train_batch_size": "grpo_batch_size",
    "gradient_accumulation_steps": "grpo_gradient_accumulation", "beta": "beta", "epsilon": "epsilon",
    "loss_type": "loss_type", "num_iterations": "num_iterations", "scale_rewards": "scale_rewards",
    "mask_truncated_completions": "mask_truncated_completions", "temperature": "temperature", "top_p": "top_p",
    "top_k": "top_k", "repetition_penalty": "repetition_penalty", "max_completion_length": "max_new_tokens",
    "activation_checkpointing": "gradient_checkpointing", "save_steps": "save_steps", "logging_steps": "logging_steps",
    "report_to": "report_to", "use_vllm": "use_vllm", "vllm_mode": "vllm_mode",
    "vllm_server_base_url": "vllm_server_base_url", "vllm_gpu_memory_utilization": "vllm_gpu_memory_utilization",
    "vllm_importance_sampling_correction": "vllm_importance_sampling_correction",
}
# transformers' deprecated names of fields the flags set (the new name, set by us, would silently win)
ALIASES = {"gradient_checkpointing": "gradient_checkpointing", "gradient_checkpointing_kwargs":
           "grpo_args '{activation_checkpointing_kwargs: ...}'"}
LOSS_TYPES = ("dapo", "grpo", "dr_grpo", "bnpo", "cispo", "sapo", "luspo", "vespo")
_EXPLICIT: ContextVar[frozenset[str]] = ContextVar("vista_explicit_fields", default=frozenset())


@contextlib.contextmanager
def explicit_fields(names: Iterable[str]) -> Iterator[None]:
    """Configurations built inside the block keep these fields as given: the preset fills only the others."""
    token = _EXPLICIT.set(frozenset(names))
    try:
        yield
    finally:
        _EXPLICIT.reset(token)


def _f(default: Any, help: str, **kwargs: Any) -> Any:
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help}, **kwargs)
    return field(default=default, metadata={"help": help}, **kwargs)


@dataclass
class VistaTrainConfig:
    # ---- run ------------------------------------------------------------------------------------------------
    run_dir: str = _f("runs/vista-train", "Run directory: config.yaml, metrics.jsonl, trajectories, checkpoints.")
    preset: str = _f("tiny-cpu", "Preset filling the fields not set on the command line or in the YAML file: "
                                 f"{', '.join(PRESETS)}.")
    seed: int = _f(0, "Seed of model initialisation, sampling and the data order.")
    resume: bool = _f(True, "Continue a run found in run_dir: finished stages are skipped, GRPO restarts from its "
                            "last checkpoint, expert episodes already played are not played again.")
    ablation: str = _f("full", "Which recipe to run, the paper's ablations: 'full' (untrained, BC, BC+GRPO, all with "
                               "tools), 'no_rl' (w/o RL: stops after BC, no GRPO step), 'no_tools' (w/o tools: experts "
                               "answer without calling tools, and SFT, GRPO and evaluation offer none: chain of "
                               "thought only). A comma-separated list (full,no_tools) runs each into "
                               "run_dir/<ablation>.")
    seeds: str = _f("", "Comma-separated seeds (0,1,2): run the recipe once per seed (and per ablation) into "
                        "run_dir/seed-<k>/<ablation>, then print every row as mean +- standard error over seeds and "
                        "episodes (run_dir/results.md). Empty: one run at --seed.")
    plugins: str = _f("all", "Which vista plugins to load ('all' or a comma-separated list of plugin names).")
    tasks: str = _f("auto", "Comma-separated task names to train and evaluate on; 'auto' takes the procedural tasks "
                            "listed in default_tasks that are registered, else every procedural task with an oracle.")
    default_tasks: str = _f("shape_count", "The task mix 'auto' prefers (fast to render and fast tools; small answer "
                                           "spaces; docs/demo.md: why counting).")
    tools: str = _f("recommended", "Tools offered in episodes: 'recommended' (each task's), 'all', or a list.")
    reward: str = _f("hierarchical", "Registered reward name used by GRPO and reported by evaluation.")
    system_prompt: str = _f("compact", "'full' (the core's prompt with every tool's JSON schema) or 'compact' (tool "
                                       "and argument names only: for small contexts).")
    max_turns: int = _f(2, "Turns that may call tools; the turn after must answer (the paper: 3).")
    difficulty: int = _f(0, "Difficulty passed to procedural tasks that take a config (0, 1 or 2).")
    # ---- policy model ---------------------------------------------------------------------------------------
    model_name_or_path: str | None = _f(None, "Local path or hub id of the policy (Qwen2.5-VL, InternVL3 '-hf'). "
                                              "None builds the tiny model from the fields below.")
    hidden_size: int = _f(128, "Tiny model: text hidden size.")
    num_layers: int = _f(2, "Tiny model: text decoder layers.")
    num_heads: int = _f(4, "Tiny model: attention heads (must divide hidden_size).")
    vision_hidden_size: int = _f(64, "Tiny model: vision encoder hidden size.")
    vision_depth: int = _f(1, "Tiny model: vision encoder blocks.")
    vocab_size: int = _f(1200, "Tiny model: size of the BPE vocabulary trained on the run's own text.")
    copy_warmup_steps: int = _f(800, "Tiny model: steps of the copy warm-up before BC (vista_trainer.warmup: "
                                     "in-context copying on repeated random spans of the run's tokens, the ability a "
                                     "pretrained model brings); 0 skips it. Real checkpoints never take it.")
    min_pixels: int = _f(4 * 28 * 28, "Processor: fewest pixels an image is resized to.")
    max_pixels: int = _f(16 * 28 * 28, "Processor: most pixels an image is resized to (sets the image tokens).")
    max_length: int = _f(2048, "Context length in tokens (prompt, tool responses and the policy's turns).")
    bf16: bool = _f(False, "Train in bfloat16 (GPU presets).")
    use_peft: bool = _f(False, "Train LoRA adapters (peft) instead of every weight, in SFT and GRPO: the optimiser "
                               "holds the adapters only, and GRPO's KL reference is the policy with its adapters "
                               "switched off, so no second copy of the model is held. Each stage saves the merged "
                               "model, so the next stage and evaluation load a plain checkpoint.")
    lora_r: int = _f(16, "LoRA rank (use_peft).")
    lora_alpha: int = _f(32, "LoRA scale numerator: the adapters' update is scaled by lora_alpha / lora_r.")
    lora_dropout: float = _f(0.05, "Dropout on the LoRA branch.")
    lora_target_modules: str = _f("all-linear", "Modules given adapters: 'all-linear' (every linear layer but the "
                                                "output head, vision tower included) or a comma-separated list of "
                                                "module names, e.g. q_proj,k_proj,v_proj,o_proj.")
    cpu_threads: int = _f(1, "torch intra-op threads on CPU (0 keeps torch's default). One is fastest for a tiny "
                             "model on a shared machine: idle threads spin-waiting for busy cores cost 5-10x.")
    # ---- stage 0: expert trajectories -----------------------------------------------------------------------
    expert: str = _f("oracle", "Who writes the expert trajectories: 'oracle' (the tasks' scripted solutions, tools "
                               "run for real) or 'teacher' (a model behind teacher_base_url).")
    teacher_base_url: str | None = _f(None, "OpenAI-compatible endpoint of the teacher, e.g. http://host:8000/v1 "
                                            "(key, if it needs one: VISTA_TEACHER_API_KEY).")
    teacher_model: str | None = _f(None, "Model name sent to the teacher endpoint.")
    densify_base_url: str | None = _f(None, "OpenAI-compatible endpoint of a second model that rewrites the kept "
                                            "trajectories' short <think> into fuller rationales before SFT (the "
                                            "paper's densification); None skips it. Key: VISTA_DENSIFY_API_KEY.")
    densify_model: str | None = _f(None, "Model name sent to the densify endpoint.")
    densify_min_chars: int = _f(0, "Reasoning at least this long is left as it is (0: rewrite every turn).")
    expert_episodes: int = _f(640, "Expert episodes to play (train split seeds 0..N-1, spread over the tasks).")
    expert_tool_share: float = _f(1.0, "Oracle expert: share of its episodes solved with the tools; the others are "
                                       "answered directly, as in the w/o-tools ablation (drawn per example and seed). "
                                       "Below 1 the teacher has two habits, BC imitates both, and GRPO has to learn "
                                       "which one pays (docs/demo.md: the demo's teacher).")
    # ---- stage 1: behaviour cloning -------------------------------------------------------------------------
    sft_learning_rate: float = _f(3e-3, "SFT learning rate (the paper: 2e-6).")
    sft_epochs: float = _f(4, "SFT epochs over the kept expert trajectories (the paper: 1).")
    sft_batch_size: int = _f(8, "SFT micro-batch size per device.")
    sft_gradient_accumulation: int = _f(1, "SFT gradient accumulation (the paper's batch 128 = 8 x 16).")
    # ---- stage 2: GRPO (trl.GRPOTrainer; each field below is the TRL field it names, with TRL's meaning) -------
    grpo_steps: int = _f(96, "GRPO optimiser steps (TRL's max_steps; the paper: 300).")
    grpo_learning_rate: float = _f(1e-4, "GRPO learning rate (TRL's learning_rate; the paper: 5e-7).")
    grpo_lr_scheduler_type: str = _f("constant", "GRPO learning-rate schedule (TRL's lr_scheduler_type: constant, "
                                                 "linear, cosine, ...).")
    num_generations: int = _f(4, "G: episodes per prompt, whose rewards are normalised within the group.")
    grpo_batch_size: int = _f(8, "Episodes per device in one forward/backward pass (TRL's "
                                 "per_device_train_batch_size).")
    grpo_gradient_accumulation: int = _f(2, "Forward/backward passes per device accumulated into one optimiser step "
                                            "(TRL's gradient_accumulation_steps, per device): a step trains on "
                                            "grpo_batch_size x grpo_gradient_accumulation x processes episodes, "
                                            "played from that many / num_generations prompts.")
    beta: float = _f(1e-3, "KL coefficient to the reference (the SFT policy; TRL's beta).")
    epsilon: float = _f(0.2, "Clip range of the importance ratio (TRL's epsilon).")
    loss_type: str = _f("dapo", "TRL's loss_type: dapo (token-level over the step's tokens), grpo, dr_grpo, bnpo, "
                                "cispo, sapo, luspo, vespo. dr_grpo divides by max_completion_length, which vista "
                                "applies per turn: an episode holds up to max_turns + 1 turns, so its loss is up to "
                                "that many times TRL's single-turn scale (lower the learning rate to match).")
    num_iterations: int = _f(1, "Optimiser passes over each generated batch (TRL's num_iterations, mu); above 1 the "
                                "old policy's logprobs are computed when the batch is generated.")
    scale_rewards: str = _f("group", "Advantage scaling (TRL's scale_rewards): group, batch or none.")
    mask_truncated_completions: bool = _f(False, "Leave episodes whose last turn hit the token budget out of the loss "
                                                 "(TRL's mask_truncated_completions).")
    temperature: float = _f(0.7, "Sampling temperature of GRPO rollouts; the loss's logprobs are at it too (the "
                                 "paper's 0.7).")
    top_p: float = _f(1.0, "Nucleus sampling of GRPO rollouts (TRL's top_p).")
    top_k: int = _f(0, "Top-k sampling of GRPO rollouts (TRL's top_k; 0: off).")
    repetition_penalty: float = _f(1.0, "Repetition penalty of GRPO rollouts (TRL's repetition_penalty; 1: off).")
    max_new_tokens: int = _f(96, "Most tokens the policy may write in one turn (TRL's max_completion_length, which "
                                 "vista applies per turn; the whole episode is bounded by max_length).")
    gradient_checkpointing: bool | None = _f(None, "Recompute activations in the backward pass of SFT and GRPO "
                                                    "(TRL's gradient_checkpointing): for models whose activations do "
                                                    "not fit. Default: on for a checkpoint (model_name_or_path), off "
                                                    "for the tiny model; it costs a second forward pass.")
    save_steps: int = _f(6, "Save a GRPO checkpoint every this many steps (TRL's save_steps).")
    sft_save_steps: int = _f(0, "Save an SFT checkpoint every this many optimiser steps, to resume a long SFT "
                                "where it stopped (0: none; SFT then restarts from its first step).")
    logging_steps: int = _f(1, "Log GRPO metrics every this many steps (TRL's logging_steps).")
    report_to: str = _f("none", "Where TRL also reports metrics (TRL's report_to: none, wandb, tensorboard, "
                                "trackio, ...); metrics.jsonl is always written.")
    use_vllm: bool = _f(False, "Generate GRPO rollouts with vLLM (TRL's use_vllm; GPU presets).")
    vllm_mode: str = _f("colocate", "vLLM mode as TRL names it: 'colocate' (same GPUs) or 'server' (trl vllm-serve).")
    vllm_server_base_url: str | None = _f(None, "URL of `trl vllm-serve` when vllm_mode='server'.")
    tool_outage_patience: int = _f(8, "Stop GRPO when most episodes of more than this many consecutive rollout "
                                      "batches meet tools the environment failed (unreachable, timed out, crashed); "
                                      "such episodes are always left unscored, never counted against the policy.")
    streaming: bool | None = _f(None, "Episodes advance on their own (an episode's next turn is sampled as soon as "
                                      "its tools answer). Default: with vLLM colocated; true: with transformers "
                                      "generation too (turns then sampled in batches of the episodes ready: not "
                                      "reproducible from the seed); false: lock step, one batch per turn.")
    vllm_gpu_memory_utilization: float = _f(0.3, "GPU memory share of vLLM in colocate mode.")
    vllm_importance_sampling_correction: bool = _f(True, "Correct for the gap between vLLM's sampling logprobs and "
                                                         "the trainer's (TRL's vllm_importance_sampling_correction).")
    grpo_args: str = _f("", "Further trl.GRPOConfig fields, as a YAML/JSON mapping with TRL's names and meanings, "
                            "e.g. '{epsilon_high: 0.28, steps_per_generation: 4, warmup_steps: 0.05}' (in a --config "
                            "YAML file, a mapping). The fields above are set by their own flags.")
    # ---- evaluation -----------------------------------------------------------------------------------------
    eval_episodes: int = _f(96, "Held-out episodes per evaluated policy (test split seeds, never trained on).")
    eval_seed: int = _f(0, "First test-split seed of the held-out evaluation (seeds eval_seed, eval_seed + 1, ... of "
                           "each task): choose settings on runs evaluated away from the seeds a reported table "
                           "uses (e.g. --eval_seed 1000), then report at 0.")

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        defaults = {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
                    for f in dataclasses.fields(self)}
        explicit = _EXPLICIT.get()
        for name, value in PRESETS[self.preset].items():
            if name not in explicit and getattr(self, name) == defaults[name]:
                setattr(self, name, value)
        if self.gradient_checkpointing is None:
            self.gradient_checkpointing = not self.tiny
        self.validate()

    @property
    def tiny(self) -> bool:
        return self.model_name_or_path is None

    @property
    def ablations(self) -> list[str]:
        return [a.strip() for a in self.ablation.split(",") if a.strip()]

    @property
    def seed_list(self) -> list[int]:
        return [int(s) for s in self.seeds.split(",") if s.strip()]

    @property
    def uses_tools(self) -> bool:
        """False for the w/o-tools ablation, whose whole recipe offers no tool."""
        return self.ablations != ["no_tools"] and self.tools != "none"

    def validate(self) -> None:
        unknown = [a for a in self.ablations if a not in ABLATIONS]
        if unknown or not self.ablations:
            raise ValueError(f"ablation must be one or more of {', '.join(ABLATIONS)} (comma-separated), got "
                             f"{self.ablation!r}")
        try:
            seeds = self.seed_list
        except ValueError:
            raise ValueError(f"seeds must be comma-separated integers like 0,1,2, got {self.seeds!r}") from None
        if len(set(seeds)) != len(seeds):
            raise ValueError(f"seeds repeat a seed: {self.seeds!r}; give each once")
        if self.expert not in ("oracle", "teacher"):
            raise ValueError(f"expert must be 'oracle' or 'teacher', got {self.expert!r}")
        if self.expert == "teacher" and not (self.teacher_base_url and self.teacher_model):
            raise ValueError("expert='teacher' needs teacher_base_url and teacher_model; set both, e.g. "
                             "--teacher_base_url http://localhost:8000/v1 --teacher_model <name> "
                             "or use --expert oracle")
        if bool(self.densify_base_url) != bool(self.densify_model):
            raise ValueError("densification needs both densify_base_url and densify_model (or neither), e.g. "
                             "--densify_base_url http://localhost:8001/v1 --densify_model <name>")
        if self.num_generations < 2:
            raise ValueError(f"num_generations must be >= 2 (advantages are relative within a group), "
                             f"got {self.num_generations}")
        processes = int(os.environ.get("WORLD_SIZE", "1"))  # set by accelerate launch / torchrun
        extra = self.grpo_extra()  # a malformed or unknown --grpo_args field is reported here, before any stage runs
        per_generation = extra.get("steps_per_generation") or self.grpo_gradient_accumulation
        episodes = extra.get("generation_batch_size") or self.grpo_batch_size * per_generation * processes
        if episodes % self.num_generations:
            raise ValueError(f"a GRPO generation batch of {episodes} episodes (grpo_batch_size {self.grpo_batch_size} "
                             f"x {per_generation} passes per generation x {processes} process(es)) must be a multiple "
                             f"of num_generations ({self.num_generations}), so that every group is whole; change one "
                             "of them")
        for name, allowed in (("loss_type", LOSS_TYPES), ("scale_rewards", ("group", "batch", "none"))):
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {', '.join(allowed)} (TRL's meanings), got "
                                 f"{getattr(self, name)!r}")
        if self.tiny and self.hidden_size % self.num_heads:
            raise ValueError(f"num_heads ({self.num_heads}) must divide hidden_size ({self.hidden_size})")
        if self.tiny and (self.hidden_size // self.num_heads) % 8:
            raise ValueError(f"the head size hidden_size/num_heads = {self.hidden_size // self.num_heads} must be a "
                             "multiple of 8 (Qwen2.5-VL splits rotary dimensions over time, height and width)")
        if self.max_new_tokens >= self.max_length:
            raise ValueError(f"max_new_tokens ({self.max_new_tokens}) must be below max_length ({self.max_length}); "
                             "raise max_length or lower max_new_tokens")
        if self.min_pixels > self.max_pixels:
            raise ValueError(f"min_pixels ({self.min_pixels}) must not exceed max_pixels ({self.max_pixels})")
        truncating = [f"{name}={value}" for name, value, off in (
            ("top_k", self.top_k, 0), ("top_p", self.top_p, 1.0), ("repetition_penalty", self.repetition_penalty, 1.0),
            ("min_p", extra.get("min_p") or 0.0, 0.0)) if value != off]
        if truncating and not self.use_vllm:
            raise ValueError(f"{', '.join(truncating)}: transformers generation would sample from a reshaped "
                             "distribution while the loss and the recorded logprobs are the full softmax at the "
                             "temperature (a biased gradient behind an importance ratio of 1); sample with vLLM "
                             "(--use_vllm: its processed logprobs feed TRL's importance-sampling correction) or "
                             "leave them off")
        if self.use_vllm and self.tiny:
            raise ValueError("use_vllm needs a real checkpoint (model_name_or_path); the tiny model generates "
                             "with transformers on CPU: drop --use_vllm or pick a paper preset")
        if self.vllm_mode not in ("colocate", "server"):
            raise ValueError(f"vllm_mode must be 'colocate' or 'server', got {self.vllm_mode!r}")
        if self.use_vllm and self.vllm_mode == "server" and processes > 1:
            raise ValueError("vllm_mode='server' with several training processes is not supported for multi-turn "
                             "episodes: TRL's server client is a collective call, and each process's episodes end at "
                             "different turns; use vllm_mode='colocate' or one training process")
        if self.use_vllm and self.vllm_mode == "server" and not self.vllm_server_base_url:
            raise ValueError("vllm_mode='server' needs vllm_server_base_url (where `trl vllm-serve` listens)")
        if self.use_vllm and self.vllm_mode == "server":
            vllm_cpu.check_server_mode()
        if not 0 <= self.beta:
            raise ValueError(f"beta must be >= 0, got {self.beta}")
        if not 0 < self.epsilon < 1:
            raise ValueError(f"epsilon (the clip range) must lie in (0, 1), got {self.epsilon}")
        if self.temperature <= 0:
            raise ValueError(f"temperature must be > 0 for GRPO sampling, got {self.temperature}")
        if self.system_prompt not in ("compact", "full"):
            raise ValueError(f"system_prompt must be 'compact' or 'full', got {self.system_prompt!r}")
        if self.difficulty not in (0, 1, 2):
            raise ValueError(f"difficulty must be 0, 1 or 2, got {self.difficulty}")
        if self.use_peft and not self.lora_target_modules.strip(" ,"):
            raise ValueError("use_peft needs lora_target_modules: 'all-linear' or module names like q_proj,v_proj")
        if not 0 <= self.expert_tool_share <= 1:
            raise ValueError(f"expert_tool_share must lie in [0, 1] (the share of expert episodes that use the tools), "
                             f"got {self.expert_tool_share}")
        if self.copy_warmup_steps < 0:
            raise ValueError(f"copy_warmup_steps must be >= 0 (0 skips the copy warm-up), got {self.copy_warmup_steps}")
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must lie in [0, 1), got {self.lora_dropout}")
        if self.eval_seed < 0:
            raise ValueError(f"eval_seed must be >= 0 (the first test-split seed evaluated), got {self.eval_seed}")
        for name in ("expert_episodes", "eval_episodes", "grpo_steps", "save_steps", "sft_batch_size", "lora_r",
                     "lora_alpha", "grpo_batch_size", "grpo_gradient_accumulation", "num_iterations",
                     "logging_steps"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_preset(cls, preset: str, **fields: Any) -> VistaTrainConfig:
        """The preset with ``fields`` set as given (also those given their default value)."""
        with explicit_fields(fields):
            return cls(preset=preset, **fields)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def grpo_extra(self) -> dict[str, Any]:
        """The ``grpo_args`` mapping, checked: known `trl.GRPOConfig` fields that no flag of ours sets."""
        import yaml
        from trl import GRPOConfig

        raw = self.grpo_args
        try:
            extra = raw if isinstance(raw, dict) else (yaml.safe_load(raw) if raw and raw.strip() else {})
        except yaml.YAMLError as exc:
            raise ValueError(f"grpo_args is not a YAML/JSON mapping ({str(exc).splitlines()[0]}); write it like "
                             "'{epsilon_high: 0.28, warmup_steps: 0.05}'") from None
        if not isinstance(extra, dict):
            raise ValueError(f"grpo_args must be a mapping of trl.GRPOConfig fields, got {raw!r}; write it like "
                             "'{epsilon_high: 0.28}'")
        known = {f.name for f in dataclasses.fields(GRPOConfig)}
        for name in extra:
            if name not in known:
                close = difflib.get_close_matches(str(name), known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ValueError(f"grpo_args: {name!r} is not a trl.GRPOConfig field{hint}")
            if name in GRPO_FLAGS or name in ALIASES:
                raise ValueError(f"grpo_args: set {name!r} with --{GRPO_FLAGS.get(name) or ALIASES[name]} instead")
        return dict(extra)
