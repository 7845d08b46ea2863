"""The two-stage recipe as resumable stages over one run directory (`vista_trainer.run_dir`: its layout): the
pipeline orders the stages (`STAGES`), skips those a run directory records as done, holds the directory for this
run alone, and keeps the processes of a multi-process run together. The stages' bodies are `vista_trainer.stages`
and `vista_trainer.evaluate`; the tasks and their episodes' settings `vista_trainer.task_mix`.

Tasks, tools and rewards come from the plugin registry only.

Under ``accelerate launch`` / ``torchrun`` (several processes), SFT and GRPO run on every process (data-parallel);
synthesis, initialisation, evaluation and every file of the run directory are the main process's, the others wait.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import vista
from vista.locks import RunLock

from .checkpoints import check_model_source
from .config import VistaTrainConfig
from .context import StageContext
from .evaluate import Evaluation
from .memory import PeakMemory
from .run_dir import RunDir
from .stages import grpo_stage, init_stage, sft_stage, synthesize_stage
from .task_mix import TaskMix
from .trl_setup import cuda_available

BARRIER_HOURS = 24  # how long processes wait for one another under `accelerate launch`


@dataclass(frozen=True)
class Stage:
    name: str
    body: Callable[[StageContext], dict]
    every_process: bool = False  # data-parallel: every process runs it; else the main process alone, the others wait


# the recipe's stages in order; 'evaluate' comes last and on the main process alone
STAGES = (Stage("synthesize", synthesize_stage), Stage("init", init_stage),
          Stage("sft", sft_stage, every_process=True), Stage("grpo", grpo_stage, every_process=True))
STAGE_NAMES = tuple(s.name for s in STAGES) + ("evaluate",)


class Pipeline:
    def __init__(self, config: VistaTrainConfig, *, progress: bool = True, registry: vista.Registry | None = None):
        self.cfg = config
        self.progress = progress
        if not config.tiny:
            check_model_source(config.model_name_or_path)  # before any work: a typo costs nothing
        self.registry = registry or vista.load_plugins(config.plugins)
        from accelerate import PartialState

        # One process, or one of those `accelerate launch` started. The others wait at a barrier while the main
        # process synthesises, loads a checkpoint or evaluates: hours, not NCCL's default ten minutes.
        self.state = PartialState(cpu=not cuda_available(), timeout=timedelta(hours=BARRIER_HOURS))
        if config.cpu_threads:
            import torch

            if not torch.cuda.is_available():
                torch.set_num_threads(config.cpu_threads)
        self.files = RunDir(config.run_dir, main_process=self.state.is_main_process, resume=config.resume)
        self.mix = TaskMix(config, self.registry)
        self.ctx = StageContext(config, self.files, self.mix, self.registry,
                                main_process=self.state.is_main_process, progress=progress)
        if self.state.is_main_process:
            with RunLock(self.files.path):  # refused at once if another run is writing this directory
                self.files.write_config(config.to_dict())

    @property
    def run_dir(self) -> Path:
        return self.files.path

    @property
    def ablation(self) -> str:
        return self.ctx.ablation

    def expert_dir(self) -> Path:
        return self.ctx.expert_dir()

    def run(self, stages: tuple[str, ...]) -> None:
        """The ``stages`` not done yet, in order, the run directory held by this run (`vista.locks.RunLock`, on the
        main process: a second run on it is refused in one line naming this one)."""
        with RunLock(self.files.path) if self.state.is_main_process else contextlib.nullcontext():
            self._run(stages)

    def _run(self, stages: tuple[str, ...]) -> None:
        main = self.state.is_main_process
        if self.ablation == "no_rl":  # the w/o-RL ablation: no GRPO step
            stages = tuple(s for s in stages if s != "grpo")
        for stage in STAGES:
            if stage.name in stages and not self.files.done(stage.name) and (main or stage.every_process):
                if main:
                    print(f"== {stage.name}", flush=True)
                with PeakMemory() as peak:
                    summary = stage.body(self.ctx)
                summary = {**summary, **peak.record()}
                self.files.finish(stage.name, summary)
                if main:
                    print(json.dumps(summary, indent=None), flush=True)
            elif stage.name in stages and main and self.files.done(stage.name):
                print(f"== {stage.name}: done earlier ({self.files.stages_path}); skipped", flush=True)
            self.state.wait_for_everyone()  # the next stage reads what this one wrote
            self._share_stages()
        if "evaluate" in stages and main:
            print("== evaluate", flush=True)
            started, before = time.perf_counter(), set(self.files.stages.get("evaluate", {}))
            with PeakMemory() as peak:
                report = Evaluation(self.ctx).run()
            # stages.json's evaluate record holds one entry per policy: the stage's own figures go to metrics.jsonl,
            # once per run that evaluated a policy (a resumed run with every evaluation done writes none)
            if set(self.files.stages.get("evaluate", {})) - before:
                self.files.metric({"stage": "evaluate", "event": "finished", **peak.record(),
                                   "seconds": time.perf_counter() - started})
            print(report, flush=True)  # the table and what to run next, as in results.md
        self.state.wait_for_everyone()

    def _share_stages(self) -> None:
        """Every process takes the main process's record of finished stages (not stages.json, which a run started
        with resume off may hold from an earlier run), so all agree on which stages run next."""
        if self.state.num_processes > 1:
            from accelerate.utils import broadcast_object_list

            shared = [self.files.stages]
            broadcast_object_list(shared, from_process=0)
            self.files.stages = shared[0]
