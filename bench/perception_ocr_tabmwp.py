"""OCR table reading on the real TabMWP test tables: cell accuracy and seconds per image, per backend.

Runs the `ocr_read_table` tool (OCR + table rebuilt from the boxes) on each table image and compares the cells with
the problem's `table_for_pd`, row by row and column by column (header row included when the table has one; the
title above the table is not a cell). A cell counts as correct when it equals the reference up to whitespace;
"loose" also ignores case and commas (table_for_pd writes a stem-and-leaf row as '6, 9' where the image shows '6 9').

    .venv/bin/python bench/perception_ocr_tabmwp.py                       # all 1000, both backends
    .venv/bin/python bench/perception_ocr_tabmwp.py --limit 200 --seed 0  # a random 200
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import track
from vista import ToolContext, call_tool
from vista_tools_perception.layout import Table
from vista_tools_perception.ocr_tools import OcrReadTable
from vista_tools_perception.table_scoring import match_table

STDERR = Console(stderr=True)  # the progress bar; the figures go to stdout

TABMWP = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "tabmwp"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TABMWP)
    parser.add_argument("--backends", default="rapidocr,easyocr")
    parser.add_argument("--limit", type=int, default=None, help="a random sample of this many problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="write per-table results here (JSON lines)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the tables already in --out and read only the rest (a long sweep can be stopped)")
    args = parser.parse_args()

    problems = json.loads((args.data / "problems_test1k.json").read_text())
    ids = sorted(problems, key=int)
    if args.limit:
        random.Random(args.seed).shuffle(ids)
        ids = ids[:args.limit]
    tool = OcrReadTable()
    tools = {tool.name: tool}
    if args.resume and not args.out:
        parser.error("--resume needs --out: the per-table results to go on from")
    done: dict[tuple[str, str], dict] = {}
    if args.resume and args.out.exists():
        for line in args.out.read_text().splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short when the sweep was killed: that table is read again
            done[(record["backend"], record["pid"])] = record
    log = args.out.open("a" if args.resume else "w") if args.out else None
    print(f"TabMWP tables: {len(ids)} of {len(problems)} (seed {args.seed})" if args.limit else
          f"TabMWP tables: all {len(ids)}")
    for backend in args.backends.split(","):
        # Load the engine before timing: s/image is reading, not loading.
        call_tool(tool.name, {"backend": backend}, [args.data / "tables" / f"{ids[0]}.png"], tools=tools)
        cells = correct = loose = exact = header_ok = failed = 0
        seconds = 0.0
        for pid in track(ids, description=f"{backend:9s}", disable=not sys.stderr.isatty(), console=STDERR,
                         transient=True):
            if (backend, pid) in done:
                record = done[(backend, pid)]
                cells, correct, loose = cells + record["cells"], correct + record["correct"], \
                    loose + record["loosely_correct"]
                exact += record.get("exact", record["shape_ok"] and record["correct"] == record["cells"])
                header_ok += record["header_ok"]
                failed += record.get("failed", False)
                seconds += record["seconds"]
                continue
            ctx = ToolContext([args.data / "tables" / f"{pid}.png"])
            start = time.perf_counter()
            result = call_tool(tool.name, {"backend": backend}, ctx, tools=tools)
            elapsed = time.perf_counter() - start
            seconds += elapsed
            if not result.ok:
                failed += 1
                table = Table(header=[], rows=[])
            else:
                table = Table(**result.data)
            match = match_table(table, problems[pid]["table_for_pd"])
            cells, correct, loose = cells + match.cells, correct + match.correct, loose + match.loosely_correct
            exact, header_ok = exact + match.exact, header_ok + match.header_ok
            if log:
                log.write(json.dumps({"pid": pid, "backend": backend, "correct": match.correct, "cells": match.cells,
                                      "loosely_correct": match.loosely_correct, "seconds": round(elapsed, 3),
                                      "shape_ok": match.shape_ok, "header_ok": match.header_ok, "exact": match.exact,
                                      "failed": not result.ok,
                                      "read": table.grid()}) + "\n")
                log.flush()
        n = len(ids)
        print(f"{backend:9s} cell accuracy {correct / cells:.4f} ({correct}/{cells})  loose {loose / cells:.4f}  "
              f"exact tables {exact / n:.3f}  header decided right {header_ok / n:.3f}  failed calls {failed}  "
              f"{seconds / n:.2f} s/image", flush=True)
    if log:
        log.close()


if __name__ == "__main__":
    main()
