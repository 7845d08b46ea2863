"""The run configuration, in TRL's style: one dataclass, every field documented once in its ``help``, cross-field
checks in `validate` raising ``ValueError`` that says how to fix it. Read from the command line and/or a YAML file
(``--config run.yaml``; command-line flags win) by `trl.TrlParser`.

A preset fills every field the user did not set: ``tiny-cpu`` (the default) trains a small
Qwen2.5-VL-architecture model from scratch on two CPU cores in minutes; the paper presets carry the paper's
hyperparameters for real checkpoints (path or hub id) with vLLM generation, for GPU machines. A field the user
sets keeps its value even when that value is the field's default (``--preset qwen2.5-vl-7b --use_vllm false
--expert oracle``): the command line and YAML file say which fields were set (`explicit_fields`), and in Python
`VistaTrainConfig.from_preset` does.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

PAPER_SFT = dict(sft_learning_rate=2e-6, sft_epochs=1, sft_batch_size=8, sft_gradient_accumulation=16,
                 max_length=16384)
PAPER_RL = dict(grpo_learning_rate=5e-7, num_generations=8, beta=1e-3, grpo_micro_batch=8, grpo_mini_batch=128,
                grpo_steps=300, temperature=0.7, max_turns=3, use_vllm=True, vllm_mode="colocate",
                max_new_tokens=1024, bf16=True, expert="teacher", min_pixels=256 * 28 * 28,
                max_pixels=1280 * 28 * 28, system_prompt="full")
PRESETS: dict[str, dict[str, Any]] = {
    "tiny-cpu": {},
    "qwen2.5-vl-7b": dict(model_name_or_path="Qwen/Qwen2.5-VL-7B-Instruct", **PAPER_SFT, **PAPER_RL),
    "internvl3-2b": dict(model_name_or_path="OpenGVLab/InternVL3-2B-hf", **PAPER_SFT, **PAPER_RL),
    "internvl3-8b": dict(model_name_or_path="OpenGVLab/InternVL3-8B-hf", **PAPER_SFT, **PAPER_RL),
    "internvl3-14b": dict(model_name_or_path="OpenGVLab/InternVL3-14B-hf", **PAPER_SFT, **PAPER_RL),
}
STAGES = ("synthesize", "sft", "grpo", "evaluate")
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
    plugins: str = _f("all", "Which vista plugins to load ('all' or a comma-separated list of plugin names).")
    tasks: str = _f("auto", "Comma-separated task names to train and evaluate on; 'auto' takes the procedural tasks "
                            "listed in default_tasks that are registered, else every procedural task with an oracle.")
    default_tasks: str = _f("shape_scene,dominant_color", "The task mix 'auto' prefers (fast to render and fast tools; "
                                                         "small answer spaces).")
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
    expert_episodes: int = _f(160, "Expert episodes to play (train split seeds 0..N-1, spread over the tasks).")
    # ---- stage 1: behaviour cloning -------------------------------------------------------------------------
    sft_learning_rate: float = _f(3e-3, "SFT learning rate (the paper: 2e-6).")
    sft_epochs: float = _f(8, "SFT epochs over the kept expert trajectories (the paper: 1).")
    sft_batch_size: int = _f(8, "SFT micro-batch size per device.")
    sft_gradient_accumulation: int = _f(1, "SFT gradient accumulation (the paper's batch 128 = 8 x 16).")
    # ---- stage 2: GRPO --------------------------------------------------------------------------------------
    grpo_steps: int = _f(24, "GRPO optimiser steps (the paper: 300).")
    grpo_learning_rate: float = _f(1e-4, "GRPO learning rate (the paper: 5e-7).")
    num_generations: int = _f(4, "G: episodes per prompt, whose rewards are normalised within the group.")
    grpo_micro_batch: int = _f(8, "Episodes per forward/backward pass.")
    grpo_mini_batch: int = _f(16, "Episodes per optimiser step (a multiple of grpo_micro_batch and of "
                                  "num_generations).")
    beta: float = _f(1e-3, "KL coefficient to the reference (the SFT policy).")
    epsilon: float = _f(0.2, "PPO clip range of the importance ratio.")
    temperature: float = _f(0.7, "Sampling temperature of GRPO rollouts (the paper's 0.7).")
    top_p: float = _f(1.0, "Nucleus sampling of GRPO rollouts.")
    max_new_tokens: int = _f(96, "Most tokens the policy may write in one turn.")
    save_steps: int = _f(6, "Save a GRPO checkpoint every this many steps.")
    use_vllm: bool = _f(False, "Generate GRPO rollouts with vLLM (GPU presets).")
    vllm_mode: str = _f("colocate", "vLLM mode as TRL names it: 'colocate' (same GPUs) or 'server' (trl vllm-serve).")
    vllm_server_base_url: str | None = _f(None, "URL of `trl vllm-serve` when vllm_mode='server'.")
    vllm_gpu_memory_utilization: float = _f(0.3, "GPU memory share of vLLM in colocate mode.")
    fsdp: bool = _f(False, "Shard GRPO's policy (and its KL reference) over the processes with PyTorch FSDP: "
                           "weights, gradients and optimiser state split N ways, each transformer block a unit; "
                           "rollouts gather the weights whole and every process generates on its own. For full "
                           "fine-tuning of a model whose optimiser state does not fit one device. SFT stays "
                           "data-parallel (add use_peft where it does not fit). Not with use_vllm.")
    # ---- evaluation -----------------------------------------------------------------------------------------
    eval_episodes: int = _f(96, "Held-out episodes per evaluated policy (test split seeds, never trained on).")

    def __post_init__(self) -> None:
        if self.preset not in PRESETS:
            raise ValueError(f"unknown preset {self.preset!r}; choose one of {', '.join(PRESETS)}")
        defaults = {f.name: (f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default)
                    for f in dataclasses.fields(self)}
        explicit = _EXPLICIT.get()
        for name, value in PRESETS[self.preset].items():
            if name not in explicit and getattr(self, name) == defaults[name]:
                setattr(self, name, value)
        self.validate()

    @property
    def tiny(self) -> bool:
        return self.model_name_or_path is None

    def validate(self) -> None:
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
        if self.grpo_mini_batch % self.grpo_micro_batch:
            raise ValueError(f"grpo_mini_batch ({self.grpo_mini_batch}) must be a multiple of grpo_micro_batch "
                             f"({self.grpo_micro_batch}); e.g. set grpo_mini_batch to "
                             f"{-(-self.grpo_mini_batch // self.grpo_micro_batch) * self.grpo_micro_batch}")
        if self.grpo_mini_batch % self.num_generations:
            raise ValueError(f"grpo_mini_batch ({self.grpo_mini_batch}) must be a multiple of num_generations "
                             f"({self.num_generations}) so that every group is whole in a step")
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
        if self.use_vllm and self.tiny:
            raise ValueError("use_vllm needs a real checkpoint (model_name_or_path); the tiny model generates "
                             "with transformers on CPU: drop --use_vllm or pick a paper preset")
        if self.vllm_mode not in ("colocate", "server"):
            raise ValueError(f"vllm_mode must be 'colocate' or 'server', got {self.vllm_mode!r}")
        if self.fsdp and self.use_vllm:
            raise ValueError("fsdp with use_vllm is not supported: pushing weights to vLLM needs them whole on every "
                             "process; drop --fsdp and use --use_peft (LoRA) to fit memory, or drop --use_vllm")
        if self.use_vllm and self.vllm_mode == "server" and not self.vllm_server_base_url:
            raise ValueError("vllm_mode='server' needs vllm_server_base_url (where `trl vllm-serve` listens)")
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
        if not 0 <= self.lora_dropout < 1:
            raise ValueError(f"lora_dropout must lie in [0, 1), got {self.lora_dropout}")
        for name in ("expert_episodes", "eval_episodes", "grpo_steps", "save_steps", "sft_batch_size", "lora_r",
                     "lora_alpha"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    @classmethod
    def from_preset(cls, preset: str, **fields: Any) -> VistaTrainConfig:
        """The preset with ``fields`` set as given (also those given their default value)."""
        with explicit_fields(fields):
            return cls(preset=preset, **fields)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def peft_config(self):
        """The LoRA configuration SFT and GRPO share, or None without use_peft."""
        if not self.use_peft:
            return None
        from peft import LoraConfig

        modules = self.lora_target_modules.strip()
        return LoraConfig(r=self.lora_r, lora_alpha=self.lora_alpha, lora_dropout=self.lora_dropout,
                          target_modules=modules if modules == "all-linear"
                          else [m.strip() for m in modules.split(",") if m.strip()])

    # ---- the TRL configurations this run hands to TRL -------------------------------------------------------
    def sft_config(self, output_dir: str):
        from trl import SFTConfig

        return SFTConfig(
            output_dir=output_dir, learning_rate=self.sft_learning_rate, num_train_epochs=self.sft_epochs,
            per_device_train_batch_size=self.sft_batch_size,
            gradient_accumulation_steps=self.sft_gradient_accumulation, max_length=self.max_length,
            bf16=self.bf16 and cuda_available(), use_cpu=not cuda_available(), seed=self.seed, report_to="none",
            logging_steps=5, save_strategy="no", lr_scheduler_type="cosine", warmup_steps=0.05,
            gradient_checkpointing=not self.tiny,  # recomputing activations only pays where memory is short
            remove_unused_columns=False, dataset_kwargs={"skip_prepare_dataset": True}, disable_tqdm=False)

    def grpo_config(self, output_dir: str):
        from trl import GRPOConfig

        return GRPOConfig(
            output_dir=output_dir, learning_rate=self.grpo_learning_rate, max_steps=self.grpo_steps,
            num_generations=self.num_generations, beta=self.beta, epsilon=self.epsilon,
            temperature=self.temperature, top_p=self.top_p, max_completion_length=self.max_new_tokens,
            per_device_train_batch_size=self.grpo_micro_batch,
            gradient_accumulation_steps=self.grpo_mini_batch // self.grpo_micro_batch,
            use_vllm=self.use_vllm, vllm_mode=self.vllm_mode, vllm_server_base_url=self.vllm_server_base_url,
            vllm_gpu_memory_utilization=self.vllm_gpu_memory_utilization,
            bf16=self.bf16 and cuda_available(), use_cpu=not cuda_available(), seed=self.seed, report_to="none",
            save_steps=self.save_steps, logging_steps=1)


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()
