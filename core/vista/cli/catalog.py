"""`vista plugins`, `tools`, `tasks`, `call` and `check-plugin`: what the installed plugins register, one tool run
by hand, and a plugin's contracts checked."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import VistaError
from ..plugins import Registry
from .base import check_data_dir, command, json_flag, print_json, table


@command("plugins", "list plugins: name, version, what each registers, and the ones that failed to load",
         json_flag)
def _plugins(args: argparse.Namespace, registry: Registry) -> int:
    if args.json:
        print_json({"plugins": [info.model_dump() for info in registry.plugins.values()],
                     "failures": [failure.model_dump() for failure in registry.failures]})
        return 0
    table(None, ["plugin", "distribution", "version", "tools", "tasks", "rewards"],
           [[i.name, i.distribution or ("built in" if i.builtin else None), i.version, len(i.tools), len(i.tasks),
             ", ".join(i.rewards)] for i in registry.plugins.values()])
    for failure in registry.failures:
        print(f"failed: {failure}", file=sys.stderr)
    return 0


def _tools_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--family", help="only tools of this family (perception, chart, diagram, math, ...)")
    json_flag(parser)


@command("tools", "list tools: name, family, plugin, batching and description (--json adds argument schemas)",
         _tools_arguments)
def _tools(args: argparse.Namespace, registry: Registry) -> int:
    families = sorted({tool.family for tool in registry.tools.values()})
    if args.family is not None and args.family not in families:
        raise VistaError(f"no tool of family '{args.family}'; the loaded families are {', '.join(families) or 'none'}"
                         " (`vista plugins` lists what is loaded)")
    tools = [(name, tool) for name, tool in sorted(registry.tools.items()) if args.family in (None, tool.family)]
    if args.json:
        print_json([{"name": name, "family": tool.family, "plugin": registry.owners[("tool", name)],
                      "description": tool.description, "batching": tool.supports_batching,
                      "schema": tool.argument_schema()} for name, tool in tools])
        return 0
    table(None, ["tool", "family", "plugin", "batching", "description"],
           [[name, tool.family, registry.owners[("tool", name)], "yes" if tool.supports_batching else "",
             _first_sentence(tool.description)] for name, tool in tools])
    return 0


def _first_sentence(text: str, limit: int = 120) -> str:
    """The description's first sentence; one longer than ``limit`` is cut at its last clause boundary that fits
    (``;``, else ``:``, else before a parenthesis), outside brackets and quotes, so the listing never stops
    mid-phrase."""
    text = " ".join(text.split())
    ends: dict[str, list[int]] = {";": [], ":": [], "(": []}
    depth, quoted = 0, False
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
    json_flag(parser)


@command("tasks", "list tasks: name, category, splits, what the loader was checked on, whether the data is present",
         _tasks_arguments)
def _tasks(args: argparse.Namespace, registry: Registry) -> int:
    check_data_dir(args.data_dir)
    rows = []
    for name, task in sorted(registry.tasks.items()):
        info = task.info(args.data_dir and f"{args.data_dir}/{name}") if hasattr(task, "info") else {}
        rows.append({**info, "plugin": registry.owners[("task", name)]})
    if args.json:
        print_json(rows)
        return 0
    table(None, ["task", "category", "dist", "splits", "checked on", "data"],
           [[r["name"], r["category"], r.get("distribution"), ",".join(r["splits"]), r.get("checked_on"),
             "generated" if r["procedural"] else ("present" if r["data_present"] else "absent")] for r in rows])
    absent = [r for r in rows if not r["procedural"] and not r["data_present"]]
    if absent:
        print(f"{len(absent)} datasets absent: set VISTA_DATA_DIR to the folder holding them (or --data-dir); "
              "`vista tasks --json` says where each was looked for and how to get it", file=sys.stderr)
    return 0


def _call_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("tool", help="tool name (see `vista tools`)")
    parser.add_argument("--image", action="append", default=[], help="image file; repeat for several (image_0, ...)")
    parser.add_argument("--args", default="{}", help='arguments as a JSON object, e.g. \'{"factor": 2}\'')
    parser.add_argument("--save-images", metavar="DIR", help="write images the tool returns into DIR")


@command("call", "validate and run one tool on an image; prints its result or classified error (JSON)",
         _call_arguments)
def _call(args: argparse.Namespace, registry: Registry) -> int:
    from pathlib import Path

    from ..execution import call_tool
    from ..protocol import parse_call
    from ..tool import ToolContext, ToolResult

    try:
        arguments = json.loads(args.args)
    except ValueError as exc:
        raise VistaError(f"--args is not valid JSON ({exc}); write an object like '{{\"factor\": 2}}'") from exc
    # the shell user's call goes through the same parser as the policy's, so faults are classified alike
    call, error = parse_call(json.dumps({"name": args.tool, "arguments": arguments}))
    if call is None or error is not None:
        assert error is not None  # parse_call gives a call or its error
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
    print_json(payload)
    return 0 if result.ok else 2


def _check_plugin_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="plugin name as `vista plugins` lists it")
    json_flag(parser)


@command("check-plugin", "run check_tool/check_task on everything a plugin registers; report problems with fixes",
         _check_plugin_arguments)
def _check_plugin(args: argparse.Namespace, registry: Registry) -> int:
    from ..checks import check_plugin

    problems = check_plugin(args.name, registry)
    if args.json:
        print_json([problem.model_dump() for problem in problems])
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
