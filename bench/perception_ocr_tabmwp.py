"""OCR table reading on the real TabMWP test tables: cell accuracy and seconds per image, per backend.

Runs the `ocr_read_table` tool (OCR + table rebuilt from the boxes) on each table image and compares the cells with
the problem's `table_for_pd`, row by row and column by column (header row included when the table has one; the
title above the table is not a cell, it is scored apart against `table_title`). Strict: a cell counts as correct
when it equals the reference as printed, whitespace aside (a stem-and-leaf row that `table_for_pd` writes '6, 9' is
printed '6 9', and '69' is wrong); loose also ignores case, spaces and commas.

The tables are split by problem id: the first 200 in id order are the development split (the only tables looked at
while `ocr_read_table` was built), the other 800 are only measured.

    .venv/bin/python bench/perception_ocr_tabmwp.py --backends rapidocr                  # all 1000, per split
    .venv/bin/python bench/perception_ocr_tabmwp.py --split dev --backends rapidocr      # the development 200
    .venv/bin/python bench/perception_ocr_tabmwp.py --limit 100 --seed 0                 # a random 100
    .venv/bin/python bench/perception_ocr_tabmwp.py --generated 100 --backends rapidocr  # drawn tables, per split
    .venv/bin/python bench/perception_ocr_tabmwp.py --html 100 --backends rapidocr       # browser tables, per split

--generated N reads N tables per style split drawn by `vista_tasks.procedural.table_styles` (matplotlib style
sheets, fonts, DPI 72-150, ruling lines or none) instead of TabMWP's: the development styles and the measure-only
styles are reported apart, and the measure-only ones per kind of table.

--html N reads N tables per style split written as HTML and rendered by headless Chromium
(`vista_tools_perception.html_tables`: captions, borders or none, header fills, zebra stripes, alignment, narrow
column gaps, page margins, money/percent/date cells): development and measure-only styles reported apart, the
measure-only ones per style. Rendering is not timed.
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
DEVELOPMENT_TABLES = 200  # the first 200 problem ids: the development split; the rest are only measured


def _summary(name: str, records: list[dict]) -> str:
    cells = sum(record["cells"] for record in records)
    titled = [record for record in records if record.get("title_ok") is not None]
    return (f"{name:22s} strict cells {sum(r['correct'] for r in records) / cells:.4f}  "
            f"loose {sum(r['loosely_correct'] for r in records) / cells:.4f}  "
            f"exact tables {sum(r['exact'] for r in records) / len(records):.3f}  "
            f"header decided right {sum(r['header_ok'] for r in records) / len(records):.3f}  "
            f"titles {sum(r['title_ok'] for r in titled)}/{len(titled)}  "
            f"failed calls {sum(r.get('failed', False) for r in records)}  "
            f"{sum(r['seconds'] for r in records) / len(records):.2f} s/image ({len(records)} tables)")


def _record(table: Table, columns: dict, title: str | None, elapsed: float, failed: bool) -> dict:
    match = match_table(table, columns, title=title)
    return {"correct": match.correct, "cells": match.cells, "loosely_correct": match.loosely_correct,
            "seconds": round(elapsed, 3), "shape_ok": match.shape_ok, "header_ok": match.header_ok,
            "exact": match.exact, "title_ok": match.title_ok, "failed": failed, "read": table.grid(),
            "title": table.title}


def _generated(backend: str, n: int) -> None:
    from vista_tasks.procedural.table_styles import styled_table

    tool = OcrReadTable()
    tools = {tool.name: tool}
    for split in ("development", "measure"):
        records = []
        for seed in range(n):
            drawn = styled_table(seed, split)
            start = time.perf_counter()
            result = call_tool(tool.name, {"backend": backend}, [drawn.image], tools=tools)
            elapsed = time.perf_counter() - start
            table = Table(**result.data) if result.ok else Table(header=[], rows=[])
            records.append({**_record(table, drawn.columns, drawn.title, elapsed, not result.ok), "kind": drawn.kind,
                            "style": drawn.style})
        print(_summary(f"{backend} drawn {split}", records), flush=True)
        if split == "measure":
            for kind in sorted({record["kind"] for record in records}):
                print(_summary(f"  {kind}", [record for record in records if record["kind"] == kind]), flush=True)


def _html(backend: str, n: int, verbose: bool) -> None:
    from vista_tools_perception.html_tables import BrowserTables, html_table

    tool = OcrReadTable()
    tools = {tool.name: tool}
    with BrowserTables() as browser:
        for split in ("development", "measure"):
            records = []
            for seed in range(n):
                drawn = html_table(seed, split)
                image = browser.render(drawn)
                start = time.perf_counter()
                result = call_tool(tool.name, {"backend": backend}, [image], tools=tools)
                elapsed = time.perf_counter() - start
                table = Table(**result.data) if result.ok else Table(header=[], rows=[])
                records.append({**_record(table, drawn.columns, drawn.title, elapsed, not result.ok),
                                "style": drawn.style, "error": None if result.ok else result.error.message,
                                "truth": drawn.columns})
            print(_summary(f"{backend} html {split}", records), flush=True)
            for style in sorted({record["style"] for record in records}):
                print(_summary(f"  {style}", [record for record in records if record["style"] == style]), flush=True)
            if verbose:
                for record in records:
                    if not record["exact"]:
                        print(f"    {record['style']}: {record['error'] or record['read']}\n"
                              f"      truth {record['truth']} title {record['title']!r}", flush=True)



def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=TABMWP)
    parser.add_argument("--backends", default="rapidocr,easyocr")
    parser.add_argument("--split", choices=["all", "dev", "measure"], default="all",
                        help=f"dev: the first {DEVELOPMENT_TABLES} problem ids; measure: the rest; all: both, "
                             "reported apart")
    parser.add_argument("--limit", type=int, default=None, help="a random sample of this many problems")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--generated", type=int, default=0, metavar="N",
                        help="read N drawn tables per style split instead of TabMWP's")
    parser.add_argument("--html", type=int, default=0, metavar="N",
                        help="read N HTML tables rendered by Chromium per style split instead of TabMWP's")
    parser.add_argument("-v", "--verbose", action="store_true", help="--html: print every table not read exactly")
    parser.add_argument("--out", type=Path, default=None, help="write per-table results here (JSON lines)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the tables already in --out and read only the rest (a long sweep can be stopped)")
    args = parser.parse_args()
    if args.html:
        for backend in args.backends.split(","):
            _html(backend, args.html, args.verbose)
        return
    if args.generated:
        for backend in args.backends.split(","):
            _generated(backend, args.generated)
        return

    problems = json.loads((args.data / "problems_test1k.json").read_text())
    ids = sorted(problems, key=int)
    development = set(ids[:DEVELOPMENT_TABLES])
    if args.split != "all":
        ids = [pid for pid in ids if (pid in development) == (args.split == "dev")]
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
        records = []
        for pid in track(ids, description=f"{backend:9s}", disable=not sys.stderr.isatty(), console=STDERR,
                         transient=True):
            if (backend, pid) in done:
                records.append(done[(backend, pid)])
                continue
            ctx = ToolContext([args.data / "tables" / f"{pid}.png"])
            start = time.perf_counter()
            result = call_tool(tool.name, {"backend": backend}, ctx, tools=tools)
            elapsed = time.perf_counter() - start
            table = Table(**result.data) if result.ok else Table(header=[], rows=[])
            record = {"pid": pid, "backend": backend, **_record(table, problems[pid]["table_for_pd"],
                                                                  problems[pid]["table_title"], elapsed, not result.ok)}
            records.append(record)
            if log:
                log.write(json.dumps(record) + "\n")
                log.flush()
        print(_summary(f"{backend} all", records), flush=True)
        for split, chosen in (("development", True), ("measure-only", False)):
            part = [record for record in records if (record["pid"] in development) == chosen]
            if part and len(part) < len(records):
                print(_summary(f"{backend} {split}", part), flush=True)
    if log:
        log.close()


if __name__ == "__main__":
    main()
