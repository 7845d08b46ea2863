"""mypy on core/vista against a recorded baseline of its errors, so that their number only goes down.

    python .ci/mypy_baseline.py            # fails on an error not in the baseline, and on a baseline entry now fixed
    python .ci/mypy_baseline.py --update   # strikes the fixed errors from the baseline; refuses while there are new

The baseline (.ci/mypy-baseline.txt) holds one line per error, ``path: message  [code]``, without line numbers so that
an edit above an old error does not make it new; a message that occurs twice in a file is listed twice. mypy's settings
(the files it checks, the Python version) are in the root pyproject.toml.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / ".ci" / "mypy-baseline.txt"
ERROR = re.compile(r"^(?P<path>[^:\s]+\.py):(?P<line>\d+):(?:\d+:)? error: (?P<message>.*)$")


def current_errors() -> tuple[Counter[str], dict[str, list[str]]]:
    """The errors mypy reports now, as baseline lines, and where each occurs (path:line)."""
    run = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary", "--no-pretty"], cwd=ROOT,
                         capture_output=True, text=True)
    if run.returncode not in (0, 1) or (run.returncode == 1 and not run.stdout.strip()):
        sys.exit(f"mypy did not run (exit {run.returncode}):\n{run.stdout}{run.stderr}")
    errors: Counter[str] = Counter()
    where: dict[str, list[str]] = {}
    for line in run.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            key = f"{match['path']}: {match['message']}"
            errors[key] += 1
            where.setdefault(key, []).append(f"{match['path']}:{match['line']}")
    return errors, where


def recorded() -> Counter[str]:
    lines = BASELINE.read_text().splitlines() if BASELINE.exists() else []
    return Counter(line for line in lines if line and not line.startswith("#"))


def write(errors: Counter[str]) -> None:
    header = ("# mypy's errors in core/vista that predate the type check in `make lint`, one per line (see "
              ".ci/mypy_baseline.py).\n# Fix them and strike them with `python .ci/mypy_baseline.py --update`; "
              "never add a line by hand.\n")
    BASELINE.write_text(header + "".join(f"{line}\n" for line in sorted(errors.elements())))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="strike fixed errors from the baseline")
    args = parser.parse_args(argv)
    errors, where = current_errors()
    baseline = recorded()
    new, fixed = errors - baseline, baseline - errors
    if new:
        print(f"mypy: {sum(new.values())} error(s) not in {BASELINE.relative_to(ROOT)}; fix them (the baseline only "
              "shrinks):")
        for key in sorted(new):
            path, _, message = key.partition(": ")
            print(f"  {', '.join(where[key])}: {message}")
        return 1
    if fixed and args.update:
        write(errors)
        print(f"mypy: {sum(fixed.values())} fixed error(s) struck from the baseline; "
              f"{sum(errors.values())} remain")
        return 0
    if fixed:
        print(f"mypy: {sum(fixed.values())} error(s) of the baseline are fixed; strike them with "
              "`python .ci/mypy_baseline.py --update` and commit the baseline:")
        for key in sorted(fixed):
            print(f"  {key}")
        return 1
    print(f"mypy: no new errors ({sum(errors.values())} in the baseline)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
