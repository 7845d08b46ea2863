"""The training stages' bodies, in the order the pipeline runs them: expert trajectories (synthesize), the initial
policy (init), behaviour cloning (sft, TRL's SFTTrainer) and multi-turn GRPO (grpo, TRL's GRPOTrainer over vista's
rollout). Each reads what the stage before it left in the run directory (`vista_trainer.run_dir`), writes its own,
and returns its summary; `vista_trainer.pipeline` orders them and records the summaries."""

from __future__ import annotations

import logging
import time

from .checkpoints import last_checkpoint, load_policy, save_policy, save_trained, step_of
from .codec import ChatCodec
from .context import StageContext
from .experts import OracleExpert, TeacherExpert, sft_records, synthesize
from .trl_setup import grpo_args, lora_config, sft_args

log = logging.getLogger(__name__)

GRPO_SEED_BASE = 100_000  # training seeds of GRPO start here, apart from the expert episodes' seeds


def synthesize_stage(p: StageContext) -> dict:
    cfg, files = p.cfg, p.files
    policy = OracleExpert(p.registry, use_tools=cfg.uses_tools, tool_share=cfg.expert_tool_share, seed=cfg.seed)
    if cfg.expert == "teacher":
        policy = TeacherExpert(cfg.teacher_base_url, cfg.teacher_model, max_tokens=cfg.max_new_tokens)
    examples = p.mix.examples("train", cfg.expert_episodes, seed=0)
    prompts = p.mix.system_prompt()
    started = time.perf_counter()
    played = kept = skipped = 0
    for task in p.mix.tasks:  # one runner per task: each task has its own system prompt (its tools)
        report = synthesize(files.path / "experts", [e for e in examples if e.task == task.name],
                            policy=policy, registry=p.registry, concurrency=2, progress=p.progress,
                            system_prompt=prompts(task.name), **p.mix.env_kwargs())
        played, kept, skipped = report.played, report.kept, skipped + report.skipped_no_oracle
    summary = {"played": played, "kept": kept, "kept_rate": kept / played if played else 0.0,
               "skipped_no_oracle": skipped, "unsupported_by_tools": report.unsupported,
               "seconds": time.perf_counter() - started}
    if kept == 0:
        raise RuntimeError(f"no expert trajectory passed the outcome filter ({played} played); look at "
                           f"{files.path / 'experts' / 'played'} for the tool errors and wrong answers")
    if cfg.densify_base_url:
        from .densify import Densifier, densify

        report = densify(files.path / "experts" / "kept", files.path / "experts" / "dense",
                         Densifier(cfg.densify_base_url, cfg.densify_model, min_chars=cfg.densify_min_chars))
        summary.update(densified_turns=report.rewritten, densify_rejected=report.rejected)
    return summary


def init_stage(p: StageContext) -> dict:
    """The policy BC starts from: a real checkpoint loaded, or the tiny model built (its tokenizer trained on the
    run's own text, then its copy warm-up)."""
    cfg = p.cfg
    warmup: dict = {}  # the tiny model's copy warm-up, when it takes one
    if not cfg.tiny:
        model, processor = load_policy(cfg.model_name_or_path, min_pixels=cfg.min_pixels,
                                       max_pixels=cfg.max_pixels, dtype="bfloat16" if cfg.bf16 else "float32")
    else:
        from .tiny import build_processor, build_tiny_model, train_tokenizer

        corpus = [part["text"] for record in sft_records(p.expert_dir())
                  for message in record["messages"] for part in message["content"] if part["type"] == "text"]
        corpus += p.mix.rendered_system_prompts()
        corpus += [e.question for e in p.mix.examples("train", 200, seed=GRPO_SEED_BASE)]
        tokenizer = train_tokenizer(corpus, cfg.vocab_size)
        processor = build_processor(tokenizer, cfg.min_pixels, cfg.max_pixels)
        model = build_tiny_model(tokenizer, cfg.hidden_size, cfg.num_layers, cfg.num_heads,
                                 cfg.vision_hidden_size, cfg.vision_depth, cfg.seed)
        if cfg.copy_warmup_steps:
            from .warmup import copy_warmup

            warmup = copy_warmup(model, tokenizer, corpus, steps=cfg.copy_warmup_steps, seed=cfg.seed)
            p.files.metric({"stage": "copy_warmup", **warmup})
    save_policy(model, processor, p.files.policy_dir("init"))
    summary = {"parameters": sum(w.numel() for w in model.parameters()),
               "vocab": len(getattr(processor, "tokenizer", processor))}  # a text-only policy: its tokenizer
    summary.update({f"copy_warmup_{k}": v for k, v in warmup.items() if k != "steps"})
    return summary


def sft_stage(p: StageContext) -> dict:
    from .sft import run_sft

    model, processor = p.load("init")
    codec = ChatCodec(processor, p.cfg.max_length)
    records = list(sft_records(p.expert_dir()))
    args = sft_args(p.cfg, str(p.files.trainer_dir("sft")))
    args.disable_tqdm = not p.progress
    checkpoint = last_checkpoint(args.output_dir) if p.cfg.resume else None
    p.files.forget_metrics("sft", step_of(checkpoint))
    started = time.perf_counter()
    summary, trainer = run_sft(model, codec, records, args, on_log=p.files.metric,
                               peft_config=lora_config(p.cfg), resume_from_checkpoint=checkpoint)
    summary["seconds"] = time.perf_counter() - started
    save_trained(trainer, processor, p.files.policy_dir("sft"), main_process=p.main_process)
    return summary


def grpo_stage(p: StageContext) -> dict:
    from .grpo import build_trainer
    from .rollout import EpisodeRollout

    cfg = p.cfg
    # float32 weights (the optimiser's master copy) under bf16 autocast: an update of lr 5e-7 would round away on
    # bfloat16 weights
    model, processor = p.load("sft")
    codec = ChatCodec(processor, cfg.max_length)
    args = grpo_args(cfg, str(p.files.trainer_dir("grpo")))
    args.disable_tqdm = not p.progress
    rollout = EpisodeRollout(p.mix.examples("train", grpo_examples_needed(args), seed=GRPO_SEED_BASE), codec,
                             registry=p.registry, env_kwargs=p.mix.env_kwargs(),
                             system_prompt=p.mix.system_prompt(), streaming=cfg.streaming)
    trainer = build_trainer(model, codec, args, rollout, reward_name=cfg.reward, tool_names=p.mix.offered_tools(),
                            peft_config=lora_config(cfg), on_metrics=p.files.metric,
                            outage_patience=cfg.tool_outage_patience)
    checkpoint = last_checkpoint(args.output_dir) if cfg.resume else None
    if checkpoint:
        log.info("resuming GRPO from %s", checkpoint)
    p.files.forget_metrics("grpo", step_of(checkpoint))
    started = time.perf_counter()
    result = trainer.train(resume_from_checkpoint=checkpoint)
    save_trained(trainer, processor, p.files.policy_dir("grpo"), main_process=p.main_process)
    steps = [entry for entry in trainer.state.log_history if "reward" in entry]
    summary = {"steps": trainer.state.global_step, "seconds": time.perf_counter() - started,
               "train_loss": result.training_loss, "sampled_tokens": rollout.sampled_tokens}
    if steps:
        summary.update(first_reward=steps[0]["reward"], last_reward=steps[-1]["reward"])
    return summary


def grpo_examples_needed(args) -> int:
    """Training examples GRPO draws over the run (``args`` a `trl.GRPOConfig`): one per group of every generation
    batch, so no example is played twice."""
    generations = -(-args.max_steps * args.gradient_accumulation_steps
                    // (args.steps_per_generation * args.num_iterations))
    return max(1, generations * args.generation_batch_size // args.num_generations)
