"""What every `vista` command shares: the registry of commands (`command`), the check of flags before any work
(`unknown_flag`, also `vista-train`'s), quieting the libraries' logs (`quiet_logs`), and output as a table for people
or JSON for machines."""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import VistaError
from ..plugins import Registry

Command = Callable[[argparse.Namespace, Registry], int]
COMMANDS: dict[str, tuple[Command, Callable[[argparse.ArgumentParser], None], str]] = {}


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
        COMMANDS[name] = (fn, arguments, help)
        return fn
    return decorate


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def json_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON for machines instead of a table")


def table(title: str | None, columns: list[str], rows: list[list[Any]]) -> None:
    """A table for people on stdout (rich); wide enough not to wrap when piped."""
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, title=title, title_justify="left", header_style="bold", box=None, pad_edge=False)
    for row in rows:
        table.add_row(*("–" if v is None or v == "" else str(v) for v in row))
    console = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200, highlight=False)
    console.print(table)


def check_data_dir(data_dir: str | None) -> None:
    if data_dir is not None and not Path(data_dir).is_dir():
        raise VistaError(f"--data-dir {data_dir} is not a directory ({Path(data_dir).resolve()}); give the folder "
                         "that holds one folder per task, as `vista tasks --json` shows")


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
