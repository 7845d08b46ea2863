"""The evaluate stage: each policy of the run (untrained, BC, BC+GRPO, or the ablation's) played greedily on
held-out test seeds, its episodes and reports written as `vista eval` writes them (so that `vista compare` and
`vista view` read them), and the results table with the `vista eval` command that replays each evaluation."""

from __future__ import annotations

import logging
import shutil
import time
from pathlib import Path

from vista.evaluation import episode_rows, summarize
from vista.execution import ToolExecutor
from vista.report import load_metrics, write_reports
from vista.trajectory_log import TrajectoryLog

from .codec import ChatCodec
from .context import StageContext
from .episodes import episode_metrics, play
from .policy import ModelPolicy

log = logging.getLogger(__name__)

# (label, policy, tools offered) of each ablation's evaluations. The w/o-tools ablation trains and evaluates without
# tools (the paper's); 'bc' of the full recipe is the w/o-RL policy (no_rl trains the same one and stops there).
EVALUATIONS = {
    "full": (("untrained", "init", True), ("bc", "sft", True), ("bc+grpo", "grpo", True)),
    "no_rl": (("untrained", "init", True), ("bc", "sft", True)),
    "no_tools": (("untrained, no tools", "init", False), ("bc, no tools", "sft", False),
                 ("bc+grpo, no tools", "grpo", False)),
}
BATCH = 16  # episodes per batched generation: bounded batches keep the padded length in check


class Evaluation:
    def __init__(self, ctx: StageContext):
        self.ctx = ctx
        self.cfg, self.files, self.mix, self.registry = ctx.cfg, ctx.files, ctx.mix, ctx.registry
        self.evaluations = EVALUATIONS[ctx.ablation]

    def run(self, which: tuple | None = None) -> str:
        """Evaluate each policy not evaluated yet; returns the report it writes to results.md (the table, then the
        commands that go on from it)."""
        import torch

        which = which or self.evaluations
        examples = self.mix.examples("test", self.cfg.eval_episodes, seed=self.cfg.eval_seed)
        results = dict(self.files.stages.get("evaluate", {}))
        for label, policy_name, tools in which:
            if label in results or not self.files.has_policy(policy_name):
                continue
            torch.manual_seed(self.cfg.seed)
            model, processor = self.ctx.load(policy_name)
            model.to("cuda" if torch.cuda.is_available() else "cpu")
            policy = ModelPolicy(model.eval(), ChatCodec(processor, self.cfg.max_length),
                                 max_new_tokens=self.cfg.max_new_tokens, temperature=0.0)
            started = time.perf_counter()
            episodes = []
            for start in range(0, len(examples), BATCH):
                episodes += play(policy.generate, examples[start:start + BATCH], registry=self.registry,
                                 executor=ToolExecutor(), env_kwargs={**self.mix.env_kwargs(tools), "split": "test"},
                                 system_prompt=self.mix.system_prompt(tools))
            where = self.files.eval_dir(label)
            if where.exists():  # an evaluation cut short: play it again whole
                shutil.rmtree(where)
            store = TrajectoryLog(where)
            for episode in episodes:
                store.append(episode.trajectory, episode.images)
            metrics = episode_metrics([e.trajectory for e in episodes], self.mix.offered_tools())
            metrics["seconds"] = time.perf_counter() - started
            results[label] = metrics
            self.write_reports(where, [e.trajectory for e in episodes], label, policy_name, tools, len(examples))
            self.files.metric({"stage": "evaluate", "policy": label, "episodes": len(episodes), **metrics})
            log.info("%s: accuracy %.3f format %.3f", label, metrics["accuracy"], metrics["format_rate"])
        self.files.record("evaluate", results)
        report = results_table(results, len(examples), self.mix.names, self.evaluations) + "\n\n" + \
            self.next_steps(len(examples))
        (self.files.path / "results.md").write_text(report + "\n")
        return report

    def mode(self, tools: bool) -> str:
        """The `vista eval --mode` that offers what this run's evaluation offered: the tasks' recommended tools,
        every tool, or none (a list of tools given by name has no mode: the command then offers the recommended)."""
        if not (tools and self.cfg.uses_tools):
            return "no_tools"
        return "all_tools" if self.cfg.tools == "all" else "tools"

    def command(self, label: str, policy_name: str, tools: bool, examples: int) -> str:
        """The `vista eval` command that plays the same episodes with the same prompt and limits (into
        <run_dir>/cli-eval/<label>)."""
        run_dir = self.files.path / "cli-eval" / self.files.eval_dir(label).name
        return (f"vista eval --policy hf:{self.files.policy_dir(policy_name)} --tasks {','.join(self.mix.names)} "
                f"--limit {-(-examples // len(self.mix.tasks))} --seed {self.cfg.eval_seed} "
                f"--difficulty {self.cfg.difficulty} --mode {self.mode(tools)} "
                f"--system-prompt {self.cfg.system_prompt} --max-turns {self.cfg.max_turns} "
                f"--max-new-tokens {self.cfg.max_new_tokens} --run-dir {run_dir}")

    def write_reports(self, where: Path, trajectories: list, label: str, policy_name: str, tools: bool,
                      examples: int) -> None:
        """results.json, results.md and report.html of one evaluation, as `vista eval` writes them, so that
        `vista compare <run_dir>/eval/*` and `vista view <run_dir>` work on the demo's evaluations too."""
        results = summarize(trajectories, self.registry)
        results["episodes"] = episode_rows(trajectories)
        stage = [lab for lab, _, _ in self.evaluations].index(label)  # `vista compare` orders the runs by it
        results["config"] = {"policy": label, "stage": stage, "tasks": self.mix.names, "split": "test",
                             "seed": self.cfg.eval_seed, "difficulty": self.cfg.difficulty,
                             "mode": self.mode(tools), "system_prompt": self.cfg.system_prompt,
                             "max_turns": self.cfg.max_turns, "concurrency": BATCH,
                             "same_as": self.command(label, policy_name, tools, examples)}
        training = None
        if self.files.metrics_path.exists() and policy_name == "grpo":
            training = [m for m in load_metrics(self.files.metrics_path) if m.get("stage") == "grpo"]
        write_reports(where, results, name=label, training_metrics=training)

    def next_steps(self, examples: int) -> str:
        run = self.files.path
        label, final, tools = next(((lab, p, t) for lab, p, t in reversed(self.evaluations)
                                    if self.files.has_policy(p)), self.evaluations[0])
        eval_dir = self.files.eval_dir(label)
        return "\n".join([
            "Next:",
            f"- compare the policies: `vista compare {run}/eval/*` (in the order they were trained)",
            f"- browse their episodes: `vista view {run}` (each eval/*/report.html links its episodes there)",
            f"- replay the {final} policy's evaluation through the CLI (the same episodes, so the same answers): "
            f"`{self.command(label, final, tools, examples)}`, then "
            f"`vista compare {eval_dir} {run}/cli-eval/{eval_dir.name}`"])


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
