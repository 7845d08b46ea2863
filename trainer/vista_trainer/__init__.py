"""vista-trainer: expert trajectories, behaviour cloning (TRL SFTTrainer) and multi-turn GRPO over `VistaEnv`.

    vista-train --plugins all          the whole recipe on the tiny-cpu preset (see `vista_trainer.cli`)

The trainer registers no tools, tasks or rewards: it finds them through the registry.
"""

from .config import VistaTrainConfig
from .presets import PRESETS

__all__ = ["PRESETS", "VistaTrainConfig"]
