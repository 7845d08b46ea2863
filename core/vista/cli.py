"""The `vista` command.

    vista plugins                     every plugin, its version, hooks and what it registers
    vista tools [--family chart]      name, family and description of each tool (--json: with argument schemas)
    vista tasks                       name, category, splits, provenance and whether the data is present
    vista call TOOL --image PATH --args JSON      validate and run one tool
    vista check-plugin NAME           check everything a plugin registers
    vista serve [--ray]               serve tools over HTTP
    vista eval / compare / view       evaluate policies, compare runs, browse trajectories
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .errors import VistaError
from .plugins import ENV_VAR, Registry, load_plugins

Command = Callable[[argparse.Namespace, Registry], int]
_COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


def unknown_flag(argv: Sequence[str], flags: Iterable[str], prog: str) -> str | None:
    """The complaint about the first ``--flag`` in ``argv`` that is none of ``flags`` (nor an unambiguous prefix of
    one, as argparse allows), with the closest known flag as a did-you-mean (``-`` and ``_`` taken as one in the
    comparison: ``--run_dir`` gets ``--run-dir``); None when every flag is known. Shared by `vista` and
    `vista-train`, so that a misspelled flag is one line before any work."""
    known = set(flags)
    spelled: dict[str, list[str]] = {}
    for f in sorted(known):
        spelled.setdefault(f.replace("_", "-"), []).append(f)
    for token in argv:
        if token == "--":
            break
        flag = token.split("=", 1)[0]
        if not flag.startswith("--") or flag in known:
            continue
        if sum(f.startswith(flag) for f in known) == 1:  # argparse takes an unambiguous prefix
            continue
        close = difflib.get_close_matches(flag.replace("_", "-"), sorted(spelled), n=1, cutoff=0.6)
        # suggest the spelling the user writes in (--grpo_steps, not --grpo-steps) where both exist
        hint = f"; did you mean {max(spelled[close[0]], key=lambda f: ('_' in f) == ('_' in flag))}?" if close else ""
        return f"unknown flag {flag}{hint} (`{prog} --help` lists every flag)"
    return None


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None] = lambda p: None):
    def decorate(fn: Command) -> Command:
        _COMMANDS[name] = (fn, arguments, help)
        return fn
    return decorate


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def _json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines instead of a table")


def _table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A table for people on stdout (rich); wide enough not to wrap when piped."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for row in rows:
        table.add_row(*("–" if v is None or v == "" else str(v) for v in row))
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200, highlight=False)
    console.print(table)


@command("plugins", "list plugins: name, version, what each registers, and the ones that failed to load",
         _json_flag)
def _plugins(args: argparse.Namespace, registry: Registry) -> int:
    if args.json:
        _print_json({"plugins": [info.model_dump() for info in registry.plugins.values()],
                     "failures": [failure.model_dump() for failure in registry.failures]})
        return 0
    _table(None, ["plugin", "distribution", "version", "tools", "tasks", "rewards"],
           [[i.name, i.distribution or ("built in" if i.builtin else None), i.version, len(i.tools), len(i.tasks),
             ", ".join(i.rewards)] for i in registry.plugins.values()])
    for failure in registry.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 0


def _tools_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", help="only tools of this family (perception, chart, diagram, math, ...)")
    _json_flag(parser)


@command("tools", "list tools: name, family, plugin, batching and description (--json adds argument schemas)",
         _tools_arguments)
def _tools(args: argparse.Namespace, registry: Registry) -> int:
    families = sorted({tool.family for tool in registry.tools.values()})
    if args.family is not None and args.family not in families:
        raise VistaError(f"no tool of family '{args.family}'; the loaded families are {', '.join(families) or 'none'}"
                         " (`vista plugins` lists what is loaded)")
    tools = [(name, tool) for name, tool in sorted(registry.tools.items()) if args.family in (None, tool.family)]
    if args.json:
        _print_json([{"name": name, "family": tool.family, "plugin": registry.owners[("tool", name)],
                      "description": tool.description, "batching": tool.supports_batching,
                      "schema": tool.argument_schema()} for name, tool in tools])
        return 0
    _table(None, ["tool", "family", "plugin", "batching", "description"],
           [[name, tool.family, registry.owners[("tool", name)], "yes" if tool.supports_batching else "",
             _first_sentence(tool.description)] for name, tool in tools])
    return 0


def _first_sentence(text: str, limit: int = 120) -> str:
    """The description's first sentence; one longer than ``limit`` is cut at its last clause boundary that fits
    (``;``, else ``:``, else before a parenthesis), outside brackets and quotes, so the listing never stops
    mid-phrase."""
    text = " ".join(text.split())
    depth, quoted, ends = 0, False, {";": [], ":": [], "(": []}
    for i, ch in enumerate(text):
        if ch == "'" and (i == 0 or not text[i - 1].isalnum()) or ch == "'" and quoted:
            quoted = not quoted
        elif ch in "([{":
            if not depth and not quoted and ch == "(" and text[i - 1:i] == " ":
                ends["("].append(i - 1)
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif not depth and not quoted and text[i + 1:i + 2] in (" ", ""):
            if ch == "." and (i + 2 >= len(text) or text[i + 2].isupper()):
                text = text[:i]
                break
            if ch in ends:
                ends[ch].append(i)
    if len(text) <= limit:
        return text
    for mark in (";", ":", "("):
        fitting = [i for i in ends[mark] if i <= limit]
        if fitting:
            return text[:fitting[-1]]
    return text[:text.rfind(" ", 0, limit - 1)] + " …"


def _tasks_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="datasets root, each task in <data-dir>/<task> (default: each task's "
                                           "environment variable VISTA_DATA_<TASK>, then $VISTA_DATA_DIR/<task>)")
    _json_flag(parser)


@command("tasks", "list tasks: name, category, splits, what the loader was checked on, whether the data is present",
         _tasks_arguments)
def _tasks(args: argparse.Namespace, registry: Registry) -> int:
    _check_data_dir(args.data_dir)
    rows = []
    for name, task in sorted(registry.tasks.items()):
        info = task.info(args.data_dir and f"{args.data_dir}/{name}") if hasattr(task, "info") else {}
        rows.append({**info, "plugin": registry.owners[("task", name)]})
    if args.json:
        _print_json(rows)
        return 0
    _table(None, ["task", "category", "dist", "splits", "checked on", "data"],
           [[r["name"], r["category"], r.get("distribution"), ",".join(r["splits"]), r.get("checked_on"),
             "generated" if r["procedural"] else ("present" if r["data_present"] else "absent")] for r in rows])
    absent = [r for r in rows if not r["procedural"] and not r["data_present"]]
    if absent:
        print(f"{len(absent)} datasets absent: set VISTA_DATA_DIR to the folder holding them (or --data-dir); "
              "`vista tasks --json` says where each was looked for and how to get it", file=sys.stderr)
    return 0


def _check_data_dir(data_dir: str | None) -> None:
    from pathlib import Path

    if data_dir is not None and not Path(data_dir).is_dir():
        raise VistaError(f"--data-dir {data_dir} is not a directory ({Path(data_dir).resolve()}); give the folder "
                         "that holds one folder per task, as `vista tasks --json` shows")


def _call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tool", help="tool name (see `vista tools`)")
    parser.add_argument("--image", action="append", default=[], help="image file; repeat for several (image_0, ...)")
    parser.add_argument("--args", default="{}", help='arguments as a JSON object, e.g. \'{"factor": 2}\'')
    parser.add_argument("--save-images", metavar="DIR", help="write images the tool returns into DIR")


@command("call", "validate and run one tool on an image; prints its result or classified error (JSON)",
         _call_arguments)
def _call(args: argparse.Namespace, registry: Registry) -> int:
    from pathlib import Path

    from .execution import call_tool
    from .protocol import parse_call
    from .tool import ToolContext, ToolResult

    try:
        arguments = json.loads(args.args)
    except ValueError as exc:
        raise VistaError(f"--args is not valid JSON ({exc}); write an object like '{{\"factor\": 2}}'") from exc
    # the shell user's call goes through the same parser as the policy's, so faults are classified alike
    call, error = parse_call(json.dumps({"name": args.tool, "arguments": arguments}))
    if error is not None:
        result = ToolResult.failure(args.tool, error)
    else:
        result = call_tool(call.name, call.arguments, ToolContext(args.image), tools=registry.tools)
    payload = result.model_dump(mode="json", exclude={"images"})
    if args.save_images and result.images:
        out = Path(args.save_images)
        out.mkdir(parents=True, exist_ok=True)
        payload["saved_images"] = []
        for name, image in zip(result.image_names, result.images):
            image.save(out / f"{name}.png")
            payload["saved_images"].append(str(out / f"{name}.png"))
    _print_json(payload)
    return 0 if result.ok else 2


def _check_plugin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="plugin name as `vista plugins` lists it")
    _json_flag(parser)


@command("check-plugin", "run check_tool/check_task on everything a plugin registers; report problems with fixes",
         _check_plugin_arguments)
def _check_plugin(args: argparse.Namespace, registry: Registry) -> int:
    from .plugin_check import check_plugin

    problems = check_plugin(args.name, registry)
    if args.json:
        _print_json([problem.model_dump() for problem in problems])
    else:
        info = registry.plugins.get(args.name)
        what = (f"{len(info.tools)} tools, {len(info.tasks)} tasks, {len(info.rewards)} rewards"
                if info is not None else "nothing loaded")
        for problem in problems:
            print(problem)
        errors = sum(1 for p in problems if p.level == "error")
        print(f"plugin '{args.name}' ({what}): " + (f"{errors} errors, {len(problems) - errors} warnings"
                                                     if problems else "no problems found"))
    return 1 if any(problem.level == "error" for problem in problems) else 0


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    from .serve.config import ServeConfig

    default = ServeConfig()  # each flag's default is the field's, documented there once
    mib = 2**20
    parser.add_argument("--tools", help="comma list of tools to serve (default: every tool of the selected plugins)")
    parser.add_argument("--host", default=default.host, help=f"interface to bind (default {default.host})")
    parser.add_argument("--port", type=int, default=default.port)
    parser.add_argument("--token", default=None, help="require this bearer token (default: $VISTA_SERVE_TOKEN)")
    parser.add_argument("--concurrency", type=int, default=default.concurrency, help="calls of one tool at once")
    parser.add_argument("--max-queue", type=int, default=default.max_queue,
                        help="waiting calls per model tool before 503")
    parser.add_argument("--light-capacity", type=int, default=default.light_capacity,
                        help="calls at once of a light tool (not a model tool: see Tool.blocking) before 503")
    parser.add_argument("--workers", type=int, default=default.workers,
                        help="server processes sharing the port, each with its own tools (for light tools)")
    parser.add_argument("--timeout", type=float, default=default.timeout_s, help="per-call time limit in seconds")
    parser.add_argument("--max-batch-size", type=int, default=default.max_batch_size,
                        help="dynamic batching: most calls in one batch")
    parser.add_argument("--max-wait-ms", type=float, default=default.max_wait_ms,
                        help="dynamic batching: longest wait for a batch to fill")
    parser.add_argument("--max-body-mb", type=float, default=default.max_body_bytes / mib,
                        help="largest request body (MiB), refused with 413 before it is read")
    parser.add_argument("--max-inflight-mb", type=float, default=default.max_inflight_bytes / mib,
                        help="request bodies held at once, server-wide (MiB); over it: 503 + Retry-After")
    parser.add_argument("--max-batch-calls", type=int, default=default.max_batch_calls,
                        help="most calls in one POST /tools/<name>/batch")
    parser.add_argument("--max-json-values", type=int, default=default.max_json_values,
                        help="most JSON values in one body, counted before parsing")
    parser.add_argument("--body-timeout", type=float, default=default.body_timeout_s,
                        help="seconds a request body may take to arrive (or the call's limit, if sooner); then 408")
    parser.add_argument("--shutdown-grace", type=float, default=default.shutdown_grace_s,
                        help="seconds calls in flight get to finish after SIGTERM; the rest are answered 503")
    parser.add_argument("--ray", action="store_true", help="deploy with Ray Serve (each tool a deployment)")
    parser.add_argument("--replicas", type=int, default=1, help="Ray Serve: replicas per tool")
    parser.add_argument("--num-gpus", type=float, default=0.0, help="Ray Serve: GPUs per replica of batching tools")
    parser.add_argument("--verbose", action="store_true", help="Ray Serve: the replicas' logs and Ray's dashboard")


def _check_port_free(host: str, port: int) -> None:
    import socket

    if not port:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise VistaError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port, or "
                             "--port 0 for any free one") from None


@command("serve", "serve tools over HTTP: models resident, dynamic batching, limits, metrics", _serve_arguments)
def _serve(args: argparse.Namespace, registry: Registry) -> int:
    import os

    from .serve.config import ServeConfig

    _check_port_free(args.host, args.port)  # before any model loads: a busy port is one line, at once
    names = [n.strip() for n in args.tools.split(",")] if args.tools else sorted(registry.tools)
    tools = {name: registry.tool(name) for name in names}
    config = ServeConfig(host=args.host, port=args.port, token=args.token or os.environ.get("VISTA_SERVE_TOKEN"),
                         concurrency=args.concurrency, max_queue=args.max_queue,
                         light_capacity=args.light_capacity, workers=args.workers, timeout_s=args.timeout,
                         max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
                         max_body_bytes=round(args.max_body_mb * 2**20),
                         max_inflight_bytes=round(args.max_inflight_mb * 2**20),
                         max_batch_calls=args.max_batch_calls, max_json_values=args.max_json_values,
                         body_timeout_s=args.body_timeout, shutdown_grace_s=args.shutdown_grace).validate()
    if args.ray:
        if args.workers != 1:
            raise VistaError("--workers is for the plain server; with --ray, scale with --replicas")
        from .serve.ray_app import serve_with_ray

        serve_with_ray(names, plugins=args.plugins, config=config, replicas=args.replicas, num_gpus=args.num_gpus,
                       verbose=args.verbose)
        return 0
    from .serve.server import serve
    from .serve.service import ToolService

    serve(ToolService(tools, config))
    return 0


def _eval_arguments(parser: argparse.ArgumentParser) -> None:
    from .evaluation import MODES
    from .prompts import SYSTEM_PROMPTS

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
    from .evaluation import EvalConfig, evaluate
    from .report import load_metrics, markdown, write_reports

    _check_data_dir(args.data_dir)
    if args.policy.startswith("hf:"):
        from .hf import check_model_source

        check_model_source(args.policy[3:], "--policy hf:")
    if args.tool_server:
        from .serve.client import attach_remote_tools

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
    from .report import compare, training_order

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
    from .viewer import make_server

    server = make_server(args.run_dir, args.port)
    print(f"serving {args.run_dir} at http://127.0.0.1:{server.server_address[1]} (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vista", description="vista-gym: tools, tasks and environments for "
                                                               "tool-integrated reasoning of VLMs")
    parser.add_argument("--plugins", default=None,
                        help=f"plugins to load: 'all' (default), a comma list like 'chart,math', or 'none'; "
                             f"also ${ENV_VAR}")
    # --plugins is accepted before or after the command (`vista --plugins math tools` = `vista tools --plugins math`)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--plugins", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, add_arguments, help_text) in _COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text, parents=[common]))
    return parser


def quiet_logs(verbose: bool) -> None:
    """Hide the libraries' warnings and INFO logs (transformers, torch, TRL, accelerate) unless ``verbose``: what a
    command prints is then its own. Called before those libraries are imported."""
    import logging
    import os
    import warnings

    if verbose:
        return
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers' "Loading weights" bar at every load
    for module in ("transformers", "torch", "trl", "accelerate", "huggingface_hub", "peft"):
        warnings.filterwarnings("ignore", module=module + r"(\.|$)")
    for noisy in ("transformers", "torch", "trl", "accelerate", "httpx", "PIL", "huggingface_hub", "ray"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    if "transformers" in sys.modules:  # imported already: its verbosity was read from the environment then
        sys.modules["transformers"].utils.logging.set_verbosity_error()
        sys.modules["transformers"].utils.logging.disable_progress_bar()


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    name = next((token for token in argv if token in _COMMANDS), None)
    options = [o for action in parser._actions for o in action.option_strings]
    if name is not None:
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
        options += [o for action in sub._actions for o in action.option_strings]
    complaint = unknown_flag(argv, options, f"vista {name}" if name else "vista")
    if complaint:
        print(f"vista: error: {complaint}", file=sys.stderr)
        return 2
    args = parser.parse_args(argv)
    quiet_logs(getattr(args, "verbose", False))
    try:
        registry = load_plugins(args.plugins)
        code = _COMMANDS[args.command][0](args, registry)
        sys.stdout.flush()
        return code
    except (VistaError, ValueError, KeyError) as exc:  # input faults: a clear line, not a traceback
        print(f"vista: error: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader went away (`vista tools | head`): stop quietly
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        if args.command == "eval":
            print(f"\nvista eval: interrupted; run the same command again to resume: the episodes finished so far "
                  f"are kept in {args.run_dir} and not played again", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
