#!/usr/bin/env bash
# Per-stage peak memory of the smollm2-135m preset's full recipe on one seed, cut down in counts only (experts,
# SFT epochs, GRPO steps, evaluation episodes), the batch shapes the preset's: code git archive of 1bceca2.
S=/work/smol-study/src2
export PYTHONPATH=$S/core:$S/vista_tasks:$S/vista_tools_perception:$S/vista_tools_chart:$S/vista_tools_diagram:$S/vista_tools_math:$S/trainer:$S/plugins/example
cd /work/smol-study
date; /usr/bin/time -v /work/main/.venv/bin/vista-train --preset smollm2-135m --seed 3 --expert_episodes 16 --sft_epochs 1 --grpo_steps 3 --eval_episodes 8 --eval_seed 2000 --run_dir /work/smol-study/mem; date
