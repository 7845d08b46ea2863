"""The run directory's files, written by the main process alone:

    run_dir/config.yaml             the resolved configuration
    run_dir/metrics.jsonl           one JSON record per SFT log step, GRPO step and evaluation
    run_dir/stages.json             finished stages and their summaries (a rerun skips them)
    run_dir/experts/{played,kept}/  expert episodes (TrajectoryLog) and the outcome-filtered ones
    run_dir/experts/dense/          the kept ones with densified reasoning (when densification ran)
    run_dir/policies/{init,sft,grpo}/  the untrained, behaviour-cloned and GRPO policies
    run_dir/{sft,grpo}/checkpoint-<step>/  TRL's checkpoints (model, optimiser, scheduler, random states)
    run_dir/eval/<policy>/          evaluation episodes (TrajectoryLog) and reports on held-out test seeds
    run_dir/results.md              the final table
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any


class RunDir:
    def __init__(self, path: str | Path, *, main_process: bool, resume: bool):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.main_process = main_process
        self.stages_path = self.path / "stages.json"
        self.stages: dict[str, Any] = json.loads(self.stages_path.read_text()) \
            if resume and self.stages_path.exists() else {}

    def write_config(self, data: dict) -> None:
        import yaml

        if self.main_process:
            (self.path / "config.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    # ---- stages.json ------------------------------------------------------------------------------------------
    def done(self, stage: str) -> bool:
        return stage in self.stages

    def record(self, stage: str, summary: dict) -> None:
        """``stage``'s summary into stages.json (the evaluate stage's: every policy's metrics, once they are all in)."""
        self.stages[stage] = summary
        if self.main_process:
            self.stages_path.write_text(json.dumps(self.stages, indent=2))

    def finish(self, stage: str, summary: dict) -> None:
        """``stage`` done: its summary recorded, and its scalar figures logged to metrics.jsonl."""
        self.record(stage, summary)
        self.metric({"stage": stage, "event": "finished", **{k: v for k, v in summary.items()
                                                              if isinstance(v, (int, float, str))}})

    # ---- metrics.jsonl ----------------------------------------------------------------------------------------
    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.jsonl"

    def metric(self, record: dict) -> None:
        if not self.main_process:
            return
        with open(self.metrics_path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"time": time.time(), **record}, sort_keys=True) + "\n")

    def forget_metrics(self, stage: str, after_step: int) -> None:
        """Drop ``stage``'s records past ``after_step`` from metrics.jsonl (an attempt that stopped before it saved
        them as a checkpoint: the stage plays those steps again), so that each step is logged once."""
        path = self.metrics_path
        if not self.main_process or not path.exists():
            return
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [line for line in lines if not _past(line, stage, after_step)]
        if len(kept) < len(lines):
            temporary = path.with_name(path.name + ".tmp")
            temporary.write_text("".join(kept), encoding="utf-8")
            os.replace(temporary, path)

    # ---- where each stage's files live ------------------------------------------------------------------------
    def expert_dir(self, densified: bool = False) -> Path:
        """The expert trajectories SFT learns from: the densified ones when densification ran, else the kept."""
        dense = self.path / "experts" / "dense"
        return dense if densified and (dense / "trajectories.jsonl").exists() else self.path / "experts" / "kept"

    def policy_dir(self, name: str) -> Path:
        return self.path / "policies" / name

    def has_policy(self, name: str) -> bool:
        return (self.policy_dir(name) / "vista_policy.json").exists()

    def trainer_dir(self, stage: str) -> Path:
        """Where TRL writes ``stage``'s checkpoints (sft or grpo)."""
        return self.path / stage

    def eval_dir(self, label: str) -> Path:
        return self.path / "eval" / label.replace(", ", "-").replace("+", "_").replace(" ", "_")


def _past(line: str, stage: str, step: int) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return record.get("stage") == stage and int(record.get("step", 0)) > step
