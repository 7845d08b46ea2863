"""`vista-train`: the whole recipe or one stage of it.

    vista-train --plugins all                        synthesise -> SFT -> GRPO -> evaluate (tiny-cpu preset)
    vista-train synthesize|sft|grpo|evaluate [...]  one stage (earlier stages must have run in the same run_dir)
    vista-train --config run.yaml --grpo_steps 20    YAML config, flags override it
    vista-train --preset qwen2.5-vl-7b --teacher_base_url http://host:8000/v1 --teacher_model ...

Every field of `VistaTrainConfig` is a flag (`vista-train --help` lists them with their documentation).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

COMMANDS = {
    "all": ("synthesize", "init", "sft", "grpo", "evaluate"),
    "synthesize": ("synthesize",),
    "sft": ("init", "sft"),
    "grpo": ("grpo",),
    "evaluate": ("evaluate",),
}


def main(argv: Sequence[str] | None = None) -> int:
    from trl import TrlParser

    from .config import VistaTrainConfig
    from .pipeline import Pipeline

    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "all"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    for noisy in ("httpx", "transformers", "PIL", "accelerate"):  # accelerate logs every checkpoint file at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)
    parser = TrlParser((VistaTrainConfig,), prog=f"vista-train {command}" if command != "all" else "vista-train")
    try:
        (config,) = parser.parse_args_and_config(argv)
    except ValueError as exc:  # a cross-field check: say it without a traceback
        print(f"vista-train: configuration error: {exc}", file=sys.stderr)
        return 2
    pipeline = Pipeline(config)
    print(f"vista-train {command}: run directory {pipeline.run_dir}; tasks "
          f"{', '.join(t.name for t in pipeline.tasks)}; tools offered {', '.join(pipeline.offered_tools())}",
          flush=True)
    pipeline.run(COMMANDS[command])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
