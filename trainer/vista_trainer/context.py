"""What a stage of the recipe works with: the run's configuration, its run directory, its task mix, the plugin
registry, and whether this process is the main one (the one that writes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import vista

from .checkpoints import load_policy
from .config import VistaTrainConfig
from .run_dir import RunDir
from .task_mix import TaskMix


@dataclass
class StageContext:
    cfg: VistaTrainConfig
    files: RunDir
    mix: TaskMix
    registry: vista.Registry
    main_process: bool = True
    progress: bool = True

    @property
    def ablation(self) -> str:
        (ablation,) = self.cfg.ablations  # a list of ablations is a study (vista_trainer.study), one run each
        return ablation

    def expert_dir(self) -> Path:
        """The expert trajectories SFT learns from (the densified ones when densification ran)."""
        return self.files.expert_dir(densified=bool(self.cfg.densify_base_url))

    def load(self, name: str) -> tuple[Any, Any]:
        """The run's policy ``name`` (init, sft, grpo) and its processor."""
        return load_policy(self.files.policy_dir(name), min_pixels=self.cfg.min_pixels,
                           max_pixels=self.cfg.max_pixels)
