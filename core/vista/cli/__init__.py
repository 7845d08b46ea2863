"""The `vista` command.

    vista plugins                     every plugin, its version, hooks and what it registers
    vista tools [--family chart]      name, family and description of each tool (--json: with argument schemas)
    vista tasks                       name, category, splits, provenance and whether the data is present
    vista call TOOL --image PATH --args JSON      validate and run one tool
    vista check-plugin NAME           check everything a plugin registers
    vista serve [--ray]               serve tools over HTTP
    vista eval / compare / view       evaluate policies, compare runs, browse trajectories

Each group of commands is a module of this package (`catalog`, `serving`, `runs`), registered with `base.command`.
"""

from __future__ import annotations

import argparse
import sys

from ..errors import VistaError
from ..plugins import ENV_VAR, load_plugins

# isort: off
from . import catalog, serving, runs  # noqa: F401  (each registers its commands, in the order `--help` lists them)
# isort: on
from .base import COMMANDS, quiet_logs, unknown_flag
from .runs import trained_difficulty

__all__ = ["build_parser", "main", "quiet_logs", "trained_difficulty", "unknown_flag"]


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
    for name, (_, add_arguments, help_text) in COMMANDS.items():
        add_arguments(sub.add_parser(name, help=help_text, description=help_text, parents=[common]))
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    name = next((token for token in argv if token in COMMANDS), None)
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
        code = COMMANDS[args.command][0](args, registry)
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
