"""`vista-train`: the whole recipe or one stage of it.

    vista-train --plugins all                        synthesise -> SFT -> GRPO -> evaluate (tiny-cpu preset)
    vista-train synthesize|sft|grpo|evaluate [...]  one stage (earlier stages must have run in the same run_dir)
    vista-train --config run.yaml --grpo_steps 20    YAML config, flags override it
    vista-train --seeds 0,1,2 --ablation full,no_tools   the recipe per seed and ablation, rows as mean +- s.e.
    vista-train --preset qwen2.5-vl-7b --teacher_base_url http://host:8000/v1 --teacher_model ...

Every field of `VistaTrainConfig` is a flag (`vista-train --help` lists them with their documentation);
`--verbose` shows the libraries' warnings and logs, hidden by default.
"""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

# each command's stages; "all" runs every stage of the recipe (`vista_trainer.pipeline.STAGE_NAMES`)
COMMANDS: dict[str, tuple[str, ...] | None] = {
    "all": None,
    "synthesize": ("synthesize",),
    "sft": ("init", "sft"),
    "grpo": ("grpo",),
    "evaluate": ("evaluate",),
}


def set_fields(argv: Sequence[str]) -> set[str]:
    """The configuration fields the flags and the ``--config`` YAML file set (a preset fills only the others)."""
    import yaml

    names = set()
    for i, token in enumerate(argv):
        if token.startswith("--"):
            name = token[2:].split("=", 1)[0].replace("-", "_")
            names.add(name)
            if name == "config":
                path = token.split("=", 1)[1] if "=" in token else (argv[i + 1] if i + 1 < len(argv) else None)
                try:
                    loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8")) if path else None
                except OSError:
                    loaded = None  # the parser reports the missing file
                names.update(loaded if isinstance(loaded, dict) else ())
    return names


def parse_config(argv: Sequence[str], prog: str = "vista-train"):
    """`VistaTrainConfig` from flags and an optional ``--config`` YAML file (flags win)."""
    import argparse

    from trl import TrlParser
    from vista.cli import unknown_flag

    from .config import VistaTrainConfig, explicit_fields

    parser = TrlParser((VistaTrainConfig,), prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description="vista-train: expert trajectories, behaviour cloning (TRL SFTTrainer), multi-turn "
                                   "GRPO (TRL GRPOTrainer) over VistaEnv, and evaluation.",
                       epilog="\n\n".join(__doc__.split("\n\n")[:2]) + "\n\n--config FILE reads a YAML file of "
                              "these fields (flags win); every flag above is a field of VistaTrainConfig.")
    for action in parser._actions:  # transformers gives a bool's negation the field's own help
        if action.option_strings and action.option_strings[0].startswith("--no_"):
            action.help = f"turn {action.option_strings[0][5:]} off"
    flags = {option for action in parser._actions for option in action.option_strings} | {"--config"}
    complaint = unknown_flag(argv, flags, prog)
    if complaint:
        raise ValueError(complaint)
    with explicit_fields(set_fields(argv)):
        (config,) = parser.parse_args_and_config(list(argv))
    return config


def main(argv: Sequence[str] | None = None) -> int:
    from vista.cli import quiet_logs

    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv.pop(0) if argv and argv[0] in COMMANDS else "all"
    verbose = "--verbose" in argv  # not a field of the run's configuration: how much this process prints
    argv = [token for token in argv if token != "--verbose"]
    quiet_logs(verbose)  # before transformers is first imported, which reads its verbosity once

    from .pipeline import STAGE_NAMES, Pipeline

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # TRL 1.16 warns at every import beyond vLLM 0.31; vista runs it with vLLM 0.32's CPU build (make test-vllm)
    warnings.filterwarnings("ignore", message="TRL currently supports vLLM versions", category=UserWarning)
    # TRL 1.16 reads transformers' deprecated `is_gradient_checkpointing` at every generation: one warning per turn
    warnings.filterwarnings("ignore", message="`is_gradient_checkpointing` is deprecated", category=FutureWarning)
    # accelerate logs every checkpoint file at INFO; vLLM says at import that triton is missing (its CPU build)
    for noisy in ("httpx", "transformers", "PIL", "accelerate", "vllm"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbose else logging.ERROR)
    try:
        config = parse_config(argv, prog=f"vista-train {command}" if command != "all" else "vista-train")
    except ValueError as exc:  # a cross-field check: say it without a traceback
        print(f"vista-train: configuration error: {exc}", file=sys.stderr)
        return 2
    from vista.errors import VistaError

    from .study import is_study, run_study

    stages = COMMANDS[command] or STAGE_NAMES

    if is_study(config):  # several seeds or ablations: one run each, then the table with standard errors
        try:
            run_study(config, stages, progress=sys.stderr.isatty())
        except (VistaError, ValueError) as exc:
            print(f"vista-train: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            return interrupted(config.run_dir)
        return 0
    run_dir = Path(config.run_dir)
    existed = run_dir.exists()
    try:
        pipeline = Pipeline(config, progress=sys.stderr.isatty())  # progress bars only on a terminal
    except (VistaError, ValueError) as exc:  # an unknown plugin or task, a bad selection: one line, no traceback
        if not existed and run_dir.is_dir() and not any(run_dir.iterdir()):
            run_dir.rmdir()  # a run that never started leaves no folder behind
        print(f"vista-train: {exc}", file=sys.stderr)
        return 2
    print(f"vista-train {command}: run directory {pipeline.run_dir}; tasks "
          f"{', '.join(pipeline.mix.names)}; tools offered {', '.join(pipeline.mix.offered_tools()) or 'none'}",
          flush=True)
    try:
        pipeline.run(stages)  # ends with every process at a barrier
    except KeyboardInterrupt:
        return interrupted(config.run_dir)
    except VistaError as exc:  # the run directory busy, a tool outage past its patience: one line, no traceback
        print(f"vista-train: {exc}", file=sys.stderr)
        return 2
    if pipeline.state.num_processes > 1:
        pipeline.state.destroy_process_group()  # leave the group together, not as each interpreter exits
    return 0


def interrupted(run_dir: str) -> int:
    """Ctrl-C: one line saying how to go on, the shell's status for an interrupt."""
    print(f"\nvista-train: interrupted; run the same command again to resume in {run_dir} (finished stages are kept, "
          "expert episodes are not played twice, GRPO restarts from its last checkpoint)", file=sys.stderr)
    return 130


if __name__ == "__main__":
    raise SystemExit(main())
