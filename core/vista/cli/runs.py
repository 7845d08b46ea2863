"""`vista eval`, `compare` and `view`: a policy evaluated on tasks, runs compared side by side, a run's episodes
browsed."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from ..errors import VistaError
from ..plugins import Registry
from .base import check_data_dir, command


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from ..evaluation import MODES
    from ..prompts import SYSTEM_PROMPTS

    parser.add_argument("--policy", required=True,
                        help="oracle | openai:<base_url> (with --model) | hf:<path or hub id> | python:<module>:<fn>")
    parser.add_argument("--model", help="model name for an openai: policy")
    parser.add_argument("--tasks", required=True, help="comma list of task names or ids (`vista tasks` lists them)")
    parser.add_argument("--split", default="test", help="split of every task (default test)")
    parser.add_argument("--limit", type=int, default=50, help="examples per task (0: the whole split)")
    parser.add_argument("--samples", type=int, default=1, help="episodes per example; accuracy averages over them")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of procedural examples and of sampling (vista-train evaluates on seed 0)")
    parser.add_argument("--mode", default="tools", choices=sorted(MODES),
                        help="; ".join(f"{k}: {v}" for k, v in MODES.items()))
    parser.add_argument("--difficulty", type=int, choices=(0, 1, 2), default=None,
                        help="difficulty of procedural tasks that take one (default: each task's own, 1); a "
                             "vista-train run evaluates at its config's difficulty (0 by default)")
    parser.add_argument("--system-prompt", default="full", choices=sorted(SYSTEM_PROMPTS),
                        help="full: every tool's JSON schema (the paper's); compact: tool and argument names only "
                             "(what vista-train's policies are trained with by default)")
    parser.add_argument("--max-turns", type=int, default=3, help="tool turns per episode (default 3)")
    parser.add_argument("--max-new-tokens", type=int, default=None,
                        help="most tokens an hf: policy writes per turn (default 256; vista-train's default 96)")
    parser.add_argument("--concurrency", type=int, default=8,
                        help="episodes in flight; tool latencies in the report include the waiting this causes")
    parser.add_argument("--data-dir", help="datasets root (<data-dir>/<task>)")
    parser.add_argument("--run-dir", required=True, help="where trajectories and reports go; rerun to resume")
    parser.add_argument("--tool-server", help="use the tools of this `vista serve` URL instead of local ones")
    parser.add_argument("--training-metrics", help="metrics.jsonl of a training run, for curves in the report")
    parser.add_argument("--quiet", action="store_true", help="no progress bars (they are off when not a terminal)")
    parser.add_argument("--verbose", action="store_true",
                        help="show the libraries' warnings and logs (transformers, torch), hidden by default")


@command("eval", "evaluate a policy on tasks; writes results.json, results.md and report.html", _eval_arguments)
def _eval(args: argparse.Namespace, registry: Registry) -> int:
    from ..evaluation import EvalConfig, evaluate
    from ..report import load_metrics, markdown, write_reports

    check_data_dir(args.data_dir)
    if args.policy.startswith("hf:"):
        from ..hf_checkpoints import check_model_source

        check_model_source(args.policy[3:], "--policy hf:")
    if args.tool_server:
        from ..serve.client import attach_remote_tools

        attach_remote_tools(registry, args.tool_server)
    config = EvalConfig(tasks=[t.strip() for t in args.tasks.split(",")], split=args.split,
                        limit=args.limit or None, samples=args.samples, seed=args.seed, mode=args.mode,
                        max_turns=args.max_turns, concurrency=args.concurrency, data_dir=args.data_dir,
                        system_prompt=args.system_prompt, difficulty=args.difficulty)
    if args.difficulty is None and args.policy.startswith("hf:"):
        trained = trained_difficulty(args.policy[3:], [registry.task(name) for name in config.tasks])
        if trained is not None:
            config.difficulty, source = trained
            print(f"vista eval: difficulty {config.difficulty}, that of the run that trained the policy ({source}); "
                  "--difficulty sets another", file=sys.stderr)
    options: dict[str, Any] = {"model": args.model} if args.model else {}
    if args.max_new_tokens is not None:
        if not args.policy.startswith(("hf:", "openai:")):
            raise VistaError("--max-new-tokens applies to hf: and openai: policies only")
        options["max_new_tokens" if args.policy.startswith("hf:") else "max_tokens"] = args.max_new_tokens
    results = evaluate(args.policy, config, args.run_dir, registry=registry, policy_options=options,
                       progress=not args.quiet and sys.stderr.isatty())
    metrics = load_metrics(args.training_metrics) if args.training_metrics else None
    paths = write_reports(args.run_dir, results, training_metrics=metrics)
    print(markdown(results, args.run_dir))
    faults = results.get("environment_faults", {})
    if faults.get("episodes"):
        causes = ", ".join(f"{cause} x{n}" for cause, n in faults["by_cause"].items())
        print(f"vista eval: {faults['episodes']} episode(s) met tools the environment failed ({causes}); they are not "
              "scored: run the same command again to play them again", file=sys.stderr)
    print(f"reports: {', '.join(str(p) for p in paths.values())}; browse the episodes: vista view {args.run_dir}",
          file=sys.stderr)
    return 0


def trained_difficulty(policy_dir: str, tasks: list) -> tuple[int, Any] | None:
    """The difficulty a `vista-train` run trained and evaluated a saved policy at, read from the run: a policy in
    ``<run>/policies/<name>``, the difficulty its evaluations record (``<run>/eval/*/results.json``), with that file.
    None when the policy is not from such a run or a task takes no difficulty."""
    from pathlib import Path

    path = Path(policy_dir).expanduser()
    if path.parent.name != "policies":
        return None
    if not all(hasattr(getattr(task, "config", None), "difficulty") for task in tasks):
        return None
    for source in sorted(path.parent.parent.glob("eval/*/results.json")):
        try:
            difficulty = json.loads(source.read_text(encoding="utf-8")).get("config", {}).get("difficulty")
        except ValueError:
            continue
        if isinstance(difficulty, int):
            return difficulty, source
    return None


def _compare_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dirs", nargs="+",
                        help="evaluation run directories (each with results.json), or folders above them")
    parser.add_argument("--as-given", action="store_true",
                        help="keep the runs in the order given; by default a training run's evaluations come first, "
                             "in the order of its stages (untrained, bc, bc+grpo), then the others as given")


def result_dirs(paths: list[str]) -> list:
    """The evaluation runs named: each path holding results.json, or every run below a path that holds none."""
    from pathlib import Path

    found = []
    for given in paths:
        path = Path(given)
        if (path / "results.json").is_file():
            found.append(path)
            continue
        if not path.is_dir():
            raise VistaError(f"'{given}' is not a directory; give evaluation run directories (`vista eval --run-dir`)")
        below = sorted(p.parent for p in path.rglob("results.json"))
        if not below:
            raise VistaError(f"no results.json in or below '{given}'; `vista eval --run-dir DIR` writes one, and "
                             "`vista-train` one per policy in <run_dir>/eval/*")
        print(f"{given}: comparing the {len(below)} evaluations below it", file=sys.stderr)
        found += below
    return found


@command("compare", "compare evaluation runs side by side (Markdown)", _compare_arguments)
def _compare(args: argparse.Namespace, registry: Registry) -> int:
    from ..report import compare, training_order

    dirs = result_dirs(args.run_dirs)
    depth = 1  # name each run by the fewest trailing path parts that tell them apart (eval/bc, cli-eval/bc)
    while len({"/".join(d.parts[-depth:]) for d in dirs}) < len(dirs) and depth < max(len(d.parts) for d in dirs):
        depth += 1
    names = ["/".join(d.parts[-depth:]) for d in dirs]
    runs = []
    for name, directory in zip(names, dirs):
        try:
            runs.append((name, json.loads((directory / "results.json").read_text())))
        except ValueError as exc:
            raise VistaError(f"{directory / 'results.json'} is not valid JSON ({exc}); rerun `vista eval` on it") \
                from None
    print(compare(runs if args.as_given else training_order(runs)))
    return 0


def _view_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="an evaluation run directory, or a folder above several (e.g. a vista-train "
                                        "run: its evaluations are in <run_dir>/eval/*)")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0: any free port)")


@command("view", "browse a run's trajectories in the browser (http://127.0.0.1:PORT)", _view_arguments)
def _view(args: argparse.Namespace, registry: Registry) -> int:
    from ..viewer import make_server

    server = make_server(args.run_dir, args.port)
    print(f"serving {args.run_dir} at http://127.0.0.1:{server.server_address[1]} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
