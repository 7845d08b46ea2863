"""The two-stage recipe as resumable stages over one run directory:

    run_dir/config.yaml             the resolved configuration
    run_dir/metrics.jsonl           one JSON record per SFT log step, GRPO step and evaluation
    run_dir/stages.json             finished stages and their summaries (a rerun skips them)
    run_dir/experts/{played,kept}/  expert episodes (TrajectoryLog) and the outcome-filtered ones
    run_dir/experts/dense/          the kept ones with densified reasoning (when densify_base_url is set)
    run_dir/policies/{init,sft,grpo}/  the untrained, behaviour-cloned and GRPO policies
    run_dir/grpo/checkpoint-<step>/ TRL's GRPO checkpoints (model, optimiser, scheduler, random states; the last 2)
    run_dir/eval/<policy>/          evaluation episodes (TrajectoryLog) on held-out test seeds
    run_dir/results.md              the final table

Tasks, tools and rewards come from the plugin registry only.

Under ``accelerate launch`` / ``torchrun`` (several processes), SFT and GRPO run on every process (data-parallel);
synthesis, initialisation, evaluation and every file of the run directory are the main process's, the others wait.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import vista
from vista.evaluation import episode_rows, summarize
from vista.executor import ToolExecutor
from vista.locks import RunLock
from vista.prompts import render_system
from vista.report import load_metrics, write_reports
from vista.trajlog import TrajectoryLog

from .checkpoints import check_model_source, load_policy, save_policy
from .codec import ChatCodec
from .config import VistaTrainConfig, cuda_available
from .episodes import episode_metrics, play
from .experts import OracleExpert, TeacherExpert, sft_records, synthesize
from .policy import ModelPolicy
from .tiny import build_processor, build_tiny_model, train_tokenizer

log = logging.getLogger(__name__)

# (label, policy, tools offered) of each ablation's evaluations. The w/o-tools ablation trains and evaluates without
# tools (the paper's); 'bc' of the full recipe is the w/o-RL policy (no_rl trains the same one and stops there).
EVALUATIONS = {
    "full": (("untrained", "init", True), ("bc", "sft", True), ("bc+grpo", "grpo", True)),
    "no_rl": (("untrained", "init", True), ("bc", "sft", True)),
    "no_tools": (("untrained, no tools", "init", False), ("bc, no tools", "sft", False),
                 ("bc+grpo, no tools", "grpo", False)),
}
GRPO_SEED_BASE = 100_000  # training seeds of GRPO start here, apart from the expert episodes' seeds
BARRIER_HOURS = 24  # how long processes wait for one another under `accelerate launch`


class Pipeline:
    def __init__(self, config: VistaTrainConfig, *, progress: bool = True, registry: vista.Registry | None = None):
        self.cfg = config
        self.progress = progress
        if not config.tiny:
            check_model_source(config.model_name_or_path)  # before any work: a typo costs nothing
        self.run_dir = Path(config.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.registry = registry or vista.load_plugins(config.plugins)
        from accelerate import PartialState

        # One process, or one of those `accelerate launch` started. The others wait at a barrier while the main
        # process synthesises, loads a checkpoint or evaluates: hours, not NCCL's default ten minutes.
        self.state = PartialState(cpu=not cuda_available(), timeout=timedelta(hours=BARRIER_HOURS))
        if config.cpu_threads:
            import torch

            if not torch.cuda.is_available():
                torch.set_num_threads(config.cpu_threads)
        self.tasks = self._select_tasks()
        self.stages_path = self.run_dir / "stages.json"
        self.stages: dict[str, Any] = json.loads(self.stages_path.read_text()) \
            if config.resume and self.stages_path.exists() else {}
        if self.state.is_main_process:
            with RunLock(self.run_dir):  # refused at once if another run is writing this directory
                (self.run_dir / "config.yaml").write_text(_yaml(config.to_dict()))

    # ---- tasks and examples ---------------------------------------------------------------------------------
    def _select_tasks(self) -> list[vista.Task]:
        registered = self.registry.tasks
        if self.cfg.tasks != "auto":
            names = [n.strip() for n in self.cfg.tasks.split(",") if n.strip()]
            unknown = [n for n in names if n not in registered]
            if unknown:
                raise ValueError(f"unknown task(s) {unknown}; registered tasks: {sorted(registered)}")
        else:
            preferred = [n.strip() for n in self.cfg.default_tasks.split(",")]
            names = [n for n in preferred if n in registered and self._playable(registered[n])]
            if not names:
                names = sorted(n for n, t in registered.items() if t.procedural and self._playable(t))
            if not names:
                raise ValueError("no registered procedural task has an oracle whose tools are registered; install "
                                 "vista-tasks and the tool packages, or name tasks with --tasks")
        return [self._configured(registered[n]) for n in names]

    def _playable(self, task: vista.Task) -> bool:
        if not task.procedural:
            return False
        try:
            example = next(iter(task.load("train", seed=0, limit=1)))
            solution = task.oracle(example)
        except NotImplementedError:
            return False
        return solution is not None and all(s.tool in self.registry.tools for s in solution.steps if s.tool)

    def _configured(self, task: vista.Task) -> vista.Task:
        """The task at the configured difficulty, where its class takes a config with one."""
        config_class = getattr(type(task), "Config", None)
        if config_class is None or "difficulty" not in getattr(config_class, "__dataclass_fields__", {}):
            return task
        return type(task)(config_class(difficulty=self.cfg.difficulty))

    def examples(self, split: str, count: int, seed: int) -> list[vista.Example]:
        """``count`` examples spread over the tasks round-robin, from consecutive seeds starting at ``seed``."""
        per_task = [list(task.load(split, seed=seed, limit=-(-count // len(self.tasks)))) for task in self.tasks]
        mixed = [e for group in zip(*per_task) for e in group]
        return mixed[:count]

    @property
    def ablation(self) -> str:
        (ablation,) = self.cfg.ablations  # a list of ablations is a study (vista_trainer.study), one Pipeline each
        return ablation

    def evaluations(self) -> tuple[tuple[str, str, bool], ...]:
        return EVALUATIONS[self.ablation]

    def env_kwargs(self, tools: bool = True) -> dict[str, Any]:
        tools = tools and self.cfg.uses_tools
        return {"tools": self.cfg.tools if tools else "none", "reward": self.cfg.reward,
                "max_turns": self.cfg.max_turns, "split": "train"}

    def system_prompt(self, tools: bool = True):
        """Each task's system template (a name in `vista.prompts.SYSTEM_PROMPTS`); with no tools, the core's
        no-tools prompt."""
        style = self.cfg.system_prompt if tools and self.cfg.uses_tools else None
        return lambda task: style

    def rendered_system_prompts(self) -> list[str]:
        tools = self.env_kwargs()["tools"]
        return [render_system(vista.VistaEnv(t, tools=tools, registry=self.registry).tools,
                              self.cfg.max_turns, self.system_prompt()(t.name)) for t in self.tasks]

    def offered_tools(self) -> list[str]:
        tools = self.env_kwargs()["tools"]
        return sorted({tool.name for t in self.tasks
                       for tool in vista.VistaEnv(t, tools=tools, registry=self.registry).tools})

    # ---- bookkeeping ----------------------------------------------------------------------------------------
    def done(self, stage: str) -> bool:
        return stage in self.stages

    def finish(self, stage: str, summary: dict) -> None:
        self.stages[stage] = summary
        if self.state.is_main_process:
            self.stages_path.write_text(json.dumps(self.stages, indent=2))
        self.metric({"stage": stage, "event": "finished", **{k: v for k, v in summary.items()
                                                              if isinstance(v, (int, float, str))}})

    def metric(self, record: dict) -> None:
        if not self.state.is_main_process:
            return
        with open(self.run_dir / "metrics.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"time": time.time(), **record}, sort_keys=True) + "\n")

    def forget_metrics(self, stage: str, after_step: int) -> None:
        """Drop ``stage``'s records past ``after_step`` from metrics.jsonl (an attempt that stopped before it saved
        them as a checkpoint: the stage plays those steps again), so that each step is logged once."""
        path = self.run_dir / "metrics.jsonl"
        if not self.state.is_main_process or not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not _past(line, stage, after_step)]
        if len(kept) < len(lines):
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text("".join(kept), encoding="utf-8")
            os.replace(temporary, path)

    def expert_dir(self) -> Path:
        """The expert trajectories SFT learns from: the densified ones when densification ran, else the kept."""
        dense = self.run_dir / "experts" / "dense"
        return dense if self.cfg.densify_base_url and (dense / "trajectories.jsonl").exists() \
            else self.run_dir / "experts" / "kept"

    def policy_dir(self, name: str) -> Path:
        return self.run_dir / "policies" / name

    def load(self, name: str):
        return load_policy(self.policy_dir(name), min_pixels=self.cfg.min_pixels, max_pixels=self.cfg.max_pixels)

    # ---- stages ---------------------------------------------------------------------------------------------
    def synthesize(self) -> dict:
        cfg = self.cfg
        policy = OracleExpert(self.registry, use_tools=cfg.uses_tools, tool_share=cfg.expert_tool_share, seed=cfg.seed)
        if cfg.expert == "teacher":
            policy = TeacherExpert(cfg.teacher_base_url, cfg.teacher_model, max_tokens=cfg.max_new_tokens)
        examples = self.examples("train", cfg.expert_episodes, seed=0)
        prompts = self.system_prompt()
        started = time.perf_counter()
        played = kept = skipped = 0
        for task in self.tasks:  # one runner per task: each task has its own system prompt (its tools)
            report = synthesize(self.run_dir / "experts", [e for e in examples if e.task == task.name],
                                policy=policy, registry=self.registry, concurrency=2, progress=self.progress,
                                system_prompt=prompts(task.name), **self.env_kwargs())
            played, kept, skipped = report.played, report.kept, skipped + report.skipped_no_oracle
        summary = {"played": played, "kept": kept, "kept_rate": kept / played if played else 0.0,
                   "skipped_no_oracle": skipped, "unsupported_by_tools": report.unsupported,
                   "seconds": time.perf_counter() - started}
        if kept == 0:
            raise RuntimeError(f"no expert trajectory passed the outcome filter ({played} played); look at "
                               f"{self.run_dir / 'experts' / 'played'} for the tool errors and wrong answers")
        if cfg.densify_base_url:
            from .densify import Densifier, densify

            report = densify(self.run_dir / "experts" / "kept", self.run_dir / "experts" / "dense",
                             Densifier(cfg.densify_base_url, cfg.densify_model, min_chars=cfg.densify_min_chars))
            summary.update(densified_turns=report.rewritten, densify_rejected=report.rejected)
        self.finish("synthesize", summary)
        return summary

    def init_policy(self) -> dict:
        cfg = self.cfg
        warmup: dict = {}  # the tiny model's copy warm-up, when it takes one
        if not cfg.tiny:
            model, processor = load_policy(cfg.model_name_or_path, min_pixels=cfg.min_pixels,
                                           max_pixels=cfg.max_pixels, dtype="bfloat16" if cfg.bf16 else "float32")
        else:
            corpus = [part["text"] for record in sft_records(self.expert_dir())
                      for message in record["messages"] for part in message["content"] if part["type"] == "text"]
            corpus += self.rendered_system_prompts()
            corpus += [e.question for e in self.examples("train", 200, seed=GRPO_SEED_BASE)]
            tokenizer = train_tokenizer(corpus, cfg.vocab_size)
            processor = build_processor(tokenizer, cfg.min_pixels, cfg.max_pixels)
            model = build_tiny_model(tokenizer, cfg.hidden_size, cfg.num_layers, cfg.num_heads,
                                     cfg.vision_hidden_size, cfg.vision_depth, cfg.seed)
            if cfg.copy_warmup_steps:
                from .warmup import copy_warmup

                warmup = copy_warmup(model, tokenizer, corpus, steps=cfg.copy_warmup_steps, seed=cfg.seed)
                self.metric({"stage": "copy_warmup", **warmup})
        save_policy(model, processor, self.policy_dir("init"))
        summary = {"parameters": sum(p.numel() for p in model.parameters()),
                   "vocab": len(getattr(processor, "tokenizer", processor))}  # a text-only policy: its tokenizer
        summary.update({f"copy_warmup_{k}": v for k, v in warmup.items() if k != "steps"})
        self.finish("init", summary)
        return summary

    def sft(self) -> dict:
        from .grpo import last_checkpoint
        from .sft import run_sft

        model, processor = self.load("init")
        codec = ChatCodec(processor, self.cfg.max_length)
        records = list(sft_records(self.expert_dir()))
        args = self.cfg.sft_config(str(self.run_dir / "sft"))
        args.disable_tqdm = not self.progress
        checkpoint = last_checkpoint(args.output_dir) if self.cfg.resume else None
        self.forget_metrics("sft", _step_of(checkpoint))
        started = time.perf_counter()
        summary, trainer = run_sft(model, codec, records, args, on_log=self.metric,
                                   peft_config=self.cfg.peft_config(), resume_from_checkpoint=checkpoint)
        summary["seconds"] = time.perf_counter() - started
        self.save_trained(trainer, processor, "sft")
        self.finish("sft", summary)
        return summary

    def grpo(self) -> dict:
        from .grpo import build_trainer, last_checkpoint
        from .rollout import EpisodeRollout

        cfg = self.cfg
        # float32 weights (the optimiser's master copy) under bf16 autocast: an update of lr 5e-7 would round away on
        # bfloat16 weights
        model, processor = self.load("sft")
        codec = ChatCodec(processor, cfg.max_length)
        args = cfg.grpo_config(str(self.run_dir / "grpo"))
        args.disable_tqdm = not self.progress
        rollout = EpisodeRollout(self.examples("train", grpo_examples_needed(args), seed=GRPO_SEED_BASE), codec,
                                 registry=self.registry, env_kwargs=self.env_kwargs(),
                                 system_prompt=self.system_prompt(), streaming=cfg.streaming)
        trainer = build_trainer(model, codec, args, rollout, reward_name=cfg.reward, tool_names=self.offered_tools(),
                                peft_config=cfg.peft_config(), on_metrics=self.metric,
                                outage_patience=cfg.tool_outage_patience)
        checkpoint = last_checkpoint(args.output_dir) if cfg.resume else None
        if checkpoint:
            log.info("resuming GRPO from %s", checkpoint)
        self.forget_metrics("grpo", _step_of(checkpoint))
        started = time.perf_counter()
        result = trainer.train(resume_from_checkpoint=checkpoint)
        self.save_trained(trainer, processor, "grpo")
        steps = [entry for entry in trainer.state.log_history if "reward" in entry]
        summary = {"steps": trainer.state.global_step, "seconds": time.perf_counter() - started,
                   "train_loss": result.training_loss, "sampled_tokens": rollout.sampled_tokens}
        if steps:
            summary.update(first_reward=steps[0]["reward"], last_reward=steps[-1]["reward"])
        self.finish("grpo", summary)
        return summary

    def save_trained(self, trainer, processor, name: str) -> None:
        """Save a trainer's policy as a plain model (LoRA merged); every process calls it (FSDP gathers the
        weights), the main process writes.

        Under FSDP the gathered weights are assigned to a copy of the model built on the meta device (FSDP's own
        model keeps its shards), whose LoRA adapters, if any, are merged: the adapters alone would not load as a
        policy."""
        import torch

        from .grpo import trained_model

        if getattr(trainer, "is_fsdp_enabled", False):
            from torch.distributed.fsdp import FSDPModule

            state = trainer.accelerator.get_state_dict(trainer.model)  # a collective; whole on the main process
            if self.state.is_main_process:
                model = trainer.accelerator.unwrap_model(trainer.model)
                adapters = getattr(model, "peft_config", None)
                base = model.get_base_model() if adapters else model
                # FSDP 2 makes the model's class a subclass of FSDPModule and of the model's own
                model_class = next(c for c in type(base).__mro__ if not issubclass(c, FSDPModule))
                with torch.device("meta"):
                    plain = model_class._from_config(base.config)
                    if adapters:
                        from peft import get_peft_model

                        plain = get_peft_model(plain, adapters[model.active_adapter],
                                               adapter_name=model.active_adapter)
                plain.load_state_dict(state, strict=True, assign=True)
                save_policy(plain.merge_and_unload() if adapters else plain, processor, self.policy_dir(name))
            return
        if self.state.is_main_process:
            save_policy(trained_model(trainer), processor, self.policy_dir(name))

    def evaluate(self, which: tuple | None = None) -> dict:
        import torch

        which = which or self.evaluations()
        examples = self.examples("test", self.cfg.eval_episodes, seed=0)
        results = dict(self.stages.get("evaluate", {}))
        for label, policy_name, tools in which:
            if label in results or not (self.policy_dir(policy_name) / "vista_policy.json").exists():
                continue
            torch.manual_seed(self.cfg.seed)
            model, processor = self.load(policy_name)
            model.to("cuda" if torch.cuda.is_available() else "cpu")
            policy = ModelPolicy(model.eval(), ChatCodec(processor, self.cfg.max_length),
                                 max_new_tokens=self.cfg.max_new_tokens, temperature=0.0)
            started = time.perf_counter()
            episodes = []
            for start in range(0, len(examples), 16):  # bounded batches keep the padded length in check
                episodes += play(policy.generate, examples[start:start + 16], registry=self.registry,
                                 executor=ToolExecutor(), env_kwargs={**self.env_kwargs(tools), "split": "test"},
                                 system_prompt=self.system_prompt(tools))
            where = self.eval_dir(label)
            if where.exists():  # an evaluation cut short: play it again whole
                shutil.rmtree(where)
            store = TrajectoryLog(where)
            for episode in episodes:
                store.append(episode.trajectory, episode.images)
            metrics = episode_metrics([e.trajectory for e in episodes], self.offered_tools())
            metrics["seconds"] = time.perf_counter() - started
            results[label] = metrics
            self.write_eval_reports(where, [e.trajectory for e in episodes], label, policy_name, tools, len(examples))
            self.metric({"stage": "evaluate", "policy": label, "episodes": len(episodes), **metrics})
            log.info("%s: accuracy %.3f format %.3f", label, metrics["accuracy"], metrics["format_rate"])
        self.stages["evaluate"] = results
        self.stages_path.write_text(json.dumps(self.stages, indent=2))
        table = results_table(results, len(examples), [t.name for t in self.tasks], self.evaluations())
        (self.run_dir / "results.md").write_text(table + "\n\n" + self.next_steps(len(examples)) + "\n")
        return results

    def eval_dir(self, label: str) -> Path:
        return self.run_dir / "eval" / label.replace(", ", "-").replace("+", "_").replace(" ", "_")

    def eval_mode(self, tools: bool) -> str:
        """The `vista eval --mode` that offers what this run's evaluation offered: the tasks' recommended tools,
        every tool, or none (a list of tools given by name has no mode: the command then offers the recommended)."""
        if not (tools and self.cfg.uses_tools):
            return "no_tools"
        return "all_tools" if self.cfg.tools == "all" else "tools"

    def eval_command(self, label: str, policy_name: str, tools: bool, examples: int) -> str:
        """The `vista eval` command that plays the same episodes with the same prompt and limits (into
        <run_dir>/cli-eval/<label>)."""
        run_dir = self.run_dir / "cli-eval" / self.eval_dir(label).name
        tasks = ",".join(t.name for t in self.tasks)
        return (f"vista eval --policy hf:{self.policy_dir(policy_name)} --tasks {tasks} "
                f"--limit {-(-examples // len(self.tasks))} --seed 0 --difficulty {self.cfg.difficulty} "
                f"--mode {self.eval_mode(tools)} --system-prompt {self.cfg.system_prompt} "
                f"--max-turns {self.cfg.max_turns} --max-new-tokens {self.cfg.max_new_tokens} --run-dir {run_dir}")

    def write_eval_reports(self, where: Path, trajectories: list, label: str, policy_name: str, tools: bool,
                           examples: int) -> None:
        """results.json, results.md and report.html of one evaluation, as `vista eval` writes them, so that
        `vista compare <run_dir>/eval/*` and `vista view <run_dir>` work on the demo's evaluations too."""
        results = summarize(trajectories, self.registry)
        results["episodes"] = episode_rows(trajectories)
        stage = [lab for lab, _, _ in self.evaluations()].index(label)  # `vista compare` orders the runs by it
        results["config"] = {"policy": label, "stage": stage, "tasks": [t.name for t in self.tasks], "split": "test",
                             "seed": 0, "difficulty": self.cfg.difficulty,
                             "mode": self.eval_mode(tools), "system_prompt": self.cfg.system_prompt,
                             "max_turns": self.cfg.max_turns, "concurrency": 16,
                             "same_as": self.eval_command(label, policy_name, tools, examples)}
        training = None
        metrics_path = self.run_dir / "metrics.jsonl"
        if metrics_path.exists() and policy_name == "grpo":
            training = [m for m in load_metrics(metrics_path) if m.get("stage") == "grpo"]
        write_reports(where, results, name=label, training_metrics=training)

    def next_steps(self, examples: int) -> str:
        run = self.run_dir
        label, final, tools = next(((lab, p, t) for lab, p, t in reversed(self.evaluations())
                                    if (self.policy_dir(p) / "vista_policy.json").exists()), self.evaluations()[0])
        return "\n".join([
            "Next:",
            f"- compare the policies: `vista compare {run}/eval/*` (in the order they were trained)",
            f"- browse their episodes: `vista view {run}` (each eval/*/report.html links its episodes there)",
            f"- replay the {final} policy's evaluation through the CLI (the same episodes, so the same answers): "
            f"`{self.eval_command(label, final, tools, examples)}`, then "
            f"`vista compare {self.eval_dir(label)} {run}/cli-eval/{self.eval_dir(label).name}`"])

    DISTRIBUTED = ("sft", "grpo")  # stages every process runs; the others run on the main process alone

    def run(self, stages: tuple[str, ...]) -> None:
        """The ``stages`` not done yet, in order, the run directory held by this run (`vista.locks.RunLock`, on the
        main process: a second run on it is refused in one line naming this one)."""
        with RunLock(self.run_dir) if self.state.is_main_process else contextlib.nullcontext():
            self._run(stages)

    def _run(self, stages: tuple[str, ...]) -> None:
        order = (("synthesize", self.synthesize), ("init", self.init_policy), ("sft", self.sft),
                 ("grpo", self.grpo))
        main = self.state.is_main_process
        if self.ablation == "no_rl":  # the w/o-RL ablation: no GRPO step
            stages = tuple(s for s in stages if s != "grpo")
        for name, stage in order:
            if name in stages and not self.done(name) and (main or name in self.DISTRIBUTED):
                if main:
                    print(f"== {name}", flush=True)
                summary = stage()
                if main:
                    print(json.dumps(summary, indent=None), flush=True)
            elif name in stages and main and self.done(name):
                print(f"== {name}: done earlier ({self.stages_path}); skipped", flush=True)
            self.state.wait_for_everyone()  # the next stage reads what this one wrote
            self._share_stages()
        if "evaluate" in stages and main:
            print("== evaluate", flush=True)
            results = self.evaluate()
            print(results_table(results, self.cfg.eval_episodes, [t.name for t in self.tasks], self.evaluations()),
                  flush=True)
            print("\n" + self.next_steps(self.cfg.eval_episodes), flush=True)
        self.state.wait_for_everyone()

    def _share_stages(self) -> None:
        """Every process takes the main process's record of finished stages (not stages.json, which a run started
        with resume off may hold from an earlier run), so all agree on which stages run next."""
        if self.state.num_processes > 1:
            from accelerate.utils import broadcast_object_list

            shared = [self.stages]
            broadcast_object_list(shared, from_process=0)
            self.stages = shared[0]


def _step_of(checkpoint: str | None) -> int:
    """The step a checkpoint folder (``checkpoint-<step>``) was saved at; 0 for none."""
    return int(Path(checkpoint).name.rsplit("-", 1)[1]) if checkpoint else 0


def _past(line: str, stage: str, step: int) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return record.get("stage") == stage and int(record.get("step", 0)) > step


def grpo_examples_needed(args) -> int:
    """Training examples GRPO draws over the run (``args`` a `trl.GRPOConfig`): one per group of every generation
    batch, so no example is played twice."""
    generations = -(-args.max_steps * args.gradient_accumulation_steps
                    // (args.steps_per_generation * args.num_iterations))
    return max(1, generations * args.generation_batch_size // args.num_generations)


def results_table(results: dict, episodes: int, tasks: list[str],
                  evaluations: tuple[tuple[str, str, bool], ...] = EVALUATIONS["full"]) -> str:
    rows = [f"Held-out test seeds: {episodes} episodes over {', '.join(tasks)}", "",
            "| policy | accuracy | format rate | mean reward | tool calls / episode |", "|---|---:|---:|---:|---:|"]
    for label, _, _ in evaluations:
        if label in results:
            m = results[label]
            rows.append(f"| {label} | {m['accuracy']:.3f} | {m['format_rate']:.3f} | {m['reward']:.3f} | "
                        f"{m['tool_calls_per_episode']:.2f} |")
    return "\n".join(rows)


def _yaml(data: dict) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False)
