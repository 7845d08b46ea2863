"""The recipe over several seeds and ablations, with uncertainty: ``vista-train --seeds 0,1,2 --ablation
full,no_tools``.

Each (seed, ablation) is an ordinary resumable run in ``run_dir/seed-<k>/<ablation>``; the study then reads their
evaluations and writes ``run_dir/results.md`` (and ``results.json``): every row as the mean over seeds ± its
standard error, and the GRPO gain over BC paired within each seed.

The standard error of a row is the larger of two estimates: the spread of the seed means (``sd / sqrt(k)``, which
holds every source of noise — initialisation, data order, sampling — but rests on few seeds) and the binomial error
of the pooled episodes (``sqrt(p (1 - p) / n)``, the floor set by the finite number of held-out episodes). For the
gain, the seed-level estimate uses the per-seed differences, the episode-level one the two rows' errors combined.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import statistics
from pathlib import Path
from typing import Any

from vista.locks import RunLock

from .config import VistaTrainConfig, explicit_fields

ROW_ORDER = ("untrained", "bc", "bc+grpo", "untrained, no tools", "bc, no tools", "bc+grpo, no tools")
NAMES = {"bc": "bc (w/o RL)", "bc+grpo": "bc+grpo (full)", "bc+grpo, no tools": "bc+grpo w/o tools"}


def run_dir_of(root: Path, seed: int, ablation: str, multi_seed: bool) -> Path:
    return (root / f"seed-{seed}" if multi_seed else root) / ablation


def run_study(config: VistaTrainConfig, stages: tuple[str, ...], *, progress: bool = True,
              registry: Any = None) -> dict[str, Any]:
    """Run every (seed, ablation) of ``config`` in turn (each resumes on its own), then aggregate."""
    from .pipeline import Pipeline

    root = Path(config.run_dir)
    # the study's folder, held by this run (its main process) for the whole study: a second one is refused
    main = int(os.environ.get("RANK", "0")) == 0
    with RunLock(root) if main else contextlib.nullcontext():
        seeds = config.seed_list or [config.seed]
        multi_seed = bool(config.seed_list)
        for seed in seeds:
            for ablation in config.ablations:
                fields = {**config.to_dict(), "seed": seed, "ablation": ablation, "seeds": "",
                          "run_dir": str(run_dir_of(root, seed, ablation, multi_seed))}
                with explicit_fields(fields):  # the preset has already filled this config: keep every value
                    one = VistaTrainConfig(**fields)
                print(f"== study: seed {seed}, ablation {ablation} -> {one.run_dir}", flush=True)
                pipeline = Pipeline(one, progress=progress, registry=registry)
                pipeline.run(stages)
        study = aggregate(root, seeds, config.ablations, multi_seed)
        (root / "results.json").write_text(json.dumps(study, indent=2))
        table = study_table(study)
        (root / "results.md").write_text(table + "\n")
        print(table, flush=True)
    return study


def aggregate(root: Path, seeds: list[int], ablations: list[str], multi_seed: bool) -> dict[str, Any]:
    """Per row: the per-seed accuracy, reward and format rate, their means and standard errors."""
    per_row: dict[str, dict[int, dict]] = {}
    for seed in seeds:
        for ablation in ablations:
            stages = run_dir_of(root, seed, ablation, multi_seed) / "stages.json"
            if not stages.exists():
                continue
            for label, metrics in json.loads(stages.read_text()).get("evaluate", {}).items():
                per_row.setdefault(label, {}).setdefault(seed, metrics)  # full and no_rl share untrained/bc
    episodes = _episodes(root, seeds, ablations, multi_seed)
    rows = {}
    for label in sorted(per_row, key=lambda name: ROW_ORDER.index(name) if name in ROW_ORDER else len(ROW_ORDER)):
        by_seed = per_row[label]
        rows[label] = {
            "seeds": sorted(by_seed),
            "accuracy": _summary([m["accuracy"] for m in by_seed.values()], episodes, binary=True),
            "reward": _summary([m["reward"] for m in by_seed.values()], episodes, binary=False,
                               spread=[m.get("reward_sd", 0.0) for m in by_seed.values()]),
            "format_rate": statistics.fmean(m["format_rate"] for m in by_seed.values()),
            "tool_calls_per_episode": statistics.fmean(m["tool_calls_per_episode"] for m in by_seed.values()),
            "per_seed_accuracy": {str(s): by_seed[s]["accuracy"] for s in sorted(by_seed)},
        }
    study = {"seeds": seeds, "ablations": ablations, "episodes_per_seed": episodes, "rows": rows}
    if "bc" in per_row and "bc+grpo" in per_row:
        paired = sorted(set(per_row["bc"]) & set(per_row["bc+grpo"]))
        diffs = [per_row["bc+grpo"][s]["accuracy"] - per_row["bc"][s]["accuracy"] for s in paired]
        se_seeds = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else 0.0
        se_episodes = math.hypot(rows["bc"]["accuracy"]["se_episodes"], rows["bc+grpo"]["accuracy"]["se_episodes"])
        gain = statistics.fmean(diffs) if diffs else 0.0
        se = max(se_seeds, se_episodes)
        study["grpo_gain"] = {"mean": gain, "se": se, "se_seeds": se_seeds, "se_episodes": se_episodes,
                              "per_seed": dict(zip(map(str, paired), diffs)), "in_se": gain / se if se else None}
    return study


def _episodes(root: Path, seeds: list[int], ablations: list[str], multi_seed: bool) -> int:
    config = run_dir_of(root, seeds[0], ablations[0], multi_seed) / "config.yaml"
    if not config.exists():
        return 0
    import yaml

    return int(yaml.safe_load(config.read_text()).get("eval_episodes", 0))


def _summary(values: list[float], episodes: int, *, binary: bool, spread: list[float] | None = None) -> dict:
    mean = statistics.fmean(values)
    k = len(values)
    se_seeds = statistics.stdev(values) / math.sqrt(k) if k > 1 else 0.0
    n = episodes * k
    if binary:
        se_episodes = math.sqrt(mean * (1 - mean) / n) if n else 0.0
    else:  # the reward's episode-level spread, when the runs recorded it
        pooled = statistics.fmean(sd ** 2 for sd in spread) if spread else 0.0
        se_episodes = math.sqrt(pooled / n) if n else 0.0
    return {"mean": mean, "se": max(se_seeds, se_episodes), "se_seeds": se_seeds, "se_episodes": se_episodes}


def study_table(study: dict[str, Any]) -> str:
    seeds, episodes = study["seeds"], study["episodes_per_seed"]
    lines = [f"Seeds {', '.join(map(str, seeds))}; {episodes} held-out episodes per seed and row; mean ± standard "
             "error (the larger of the seed spread and the pooled-episode binomial error).", "",
             "| policy | accuracy | mean reward | format rate | tool calls / episode | accuracy per seed |",
             "|---|---:|---:|---:|---:|---|"]
    for label, row in study["rows"].items():
        acc, reward = row["accuracy"], row["reward"]
        per_seed = ", ".join(f"{v:.3f}" for v in row["per_seed_accuracy"].values())
        lines.append(f"| {NAMES.get(label, label)} | {acc['mean']:.3f} ± {acc['se']:.3f} | "
                     f"{reward['mean']:.3f} ± {reward['se']:.3f} | {row['format_rate']:.3f} | "
                     f"{row['tool_calls_per_episode']:.2f} | {per_seed} |")
    gain = study.get("grpo_gain")
    if gain:
        ratio = f"{gain['in_se']:.1f} standard errors" if gain["in_se"] is not None else "no error estimate"
        lines += ["", f"GRPO gain over BC (paired within each seed): {gain['mean']:+.3f} ± {gain['se']:.3f} "
                      f"({ratio}); per seed {', '.join(f'{v:+.3f}' for v in gain['per_seed'].values())}."]
    return "\n".join(lines)


def is_study(config: VistaTrainConfig) -> bool:
    return bool(config.seed_list) or len(config.ablations) > 1

