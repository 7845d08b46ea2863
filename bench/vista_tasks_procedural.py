"""Procedural generators: generation speed and variety per task and difficulty, and how well the installed tools
read the generated images (the tools the oracles call), measured against the ground truth in the metadata.

    .venv/bin/python bench/vista_tasks_procedural.py [--n 20] [--tool-n 8]

Figures printed:
- generation: CPU ms per example, distinct (question, answer) pairs among n seeds, question types drawn;
- detect_objects (classical) on shape scenes: scenes whose detected (colour, shape) multiset equals the truth;
- ocr_read_table on table_mwp: table cells read exactly;
- ocr_read_text on receipts: printed fields (date, receipt number, amounts) found in the OCR lines;
- chart_to_table (classical) on the chart tasks: values read within 5% of the truth (when the tool is installed);
- every oracle's tool calls run for real: failures, and how often the last tool's value is the right answer.
"""

from __future__ import annotations

import argparse
import collections
import time

import vista
from vista_tasks.procedural import (
    PROCEDURAL_TASKS,
    ChartBarTask,
    ChartLineTask,
    ChartPieTask,
    ReceiptTask,
    ShapeMathTask,
    ShapeSceneTask,
    TableMWPTask,
)


def generation(n: int) -> None:
    print(f"== generation: {n} test seeds per task and difficulty")
    print(f"{'task':18} {'diff':>4} {'ms/example':>10} {'distinct':>8}  question types")
    for task in PROCEDURAL_TASKS:
        for difficulty in (0, 1, 2):
            generator = type(task)(type(task.config)(difficulty=difficulty))
            start = time.process_time()
            examples = list(generator.load("test", seed=1000, limit=n))
            ms = (time.process_time() - start) * 1000 / n
            distinct = len({(e.question, str(e.answer)) for e in examples})
            kinds = collections.Counter(e.metadata.get("query", {}).get("type") or e.metadata.get("problem_type")
                                        for e in examples)
            print(f"{task.name:18} {difficulty:>4} {ms:>10.1f} {distinct:>5}/{n:<3} "
                  + ", ".join(f"{k}:{v}" for k, v in sorted(kinds.items())))


def _call(tool: str, arguments: dict, example) -> dict | None:
    result = vista.call_tool(tool, arguments, images=example.open_images())
    if result.error is not None:
        print(f"   {example.id}: {tool} failed: {result.error.message[:120]}")
        return None
    return result.data


def detection(n: int) -> None:
    exact = total = 0
    for task in (ShapeSceneTask, ShapeMathTask):
        for difficulty in (0, 1, 2):
            for example in task(task.Config(difficulty=difficulty)).load("test", seed=2000, limit=n):
                data = _call("detect_objects", task().oracle(example).steps[0].arguments, example)
                truth = collections.Counter((o["color"], o["shape"]) for o in example.metadata["objects"])
                found = collections.Counter((o.get("color"), o.get("shape")) for o in (data or {}).get("objects", []))
                exact += truth == found
                total += 1
    print(f"== detect_objects (classical): {exact}/{total} scenes with every object's colour and shape right")


def table_ocr(n: int) -> None:
    right = rows = headers = tables = 0
    for difficulty in (0, 1, 2):
        for example in TableMWPTask(TableMWPTask.Config(difficulty=difficulty)).load("test", seed=3000, limit=n):
            data = _call("ocr_read_table", {"image": "image_0"}, example) or {"rows": []}
            table = example.metadata["table"]
            unit = table.get("unit", "")
            tables += 1
            headers += [str(h).strip() for h in data.get("header", [])] == table["header"]
            # Rows are matched by their first cell, so a mis-read header does not shift every row.
            read = {str(row[0]).strip(): [str(c).replace(" ", "") for c in row[1:]]
                    for row in data.get("rows", []) if row}
            for name, value in table["rows"]:
                rows += 1
                right += read.get(str(name), [None])[:1] == [f"{unit}{value:.2f}" if unit else str(value)]
    print(f"== ocr_read_table on table_mwp: {right}/{rows} rows read exactly ({100 * right / max(rows, 1):.1f}%), "
          f"header right in {headers}/{tables} tables")


def receipt_ocr(n: int) -> None:
    found = fields = 0
    for difficulty in (0, 1, 2):
        for example in ReceiptTask(ReceiptTask.Config(difficulty=difficulty)).load("test", seed=4000, limit=n):
            data = _call("ocr_read_text", {"image": "image_0"}, example) or {"lines": []}
            text = " ".join(line["text"] for line in data.get("lines", [])).replace(" ", "")
            receipt, printed = example.metadata["receipt"], example.metadata["printed"]
            wanted = [receipt["date"], receipt["number"], *(i["line_total"] for i in receipt["items"]),
                      *(receipt[k] for k in ("subtotal", "tax", "total", "cash", "change") if k in printed)]
            fields += len(wanted)
            found += sum(w.replace(" ", "") in text for w in wanted)
    print(f"== ocr_read_text on receipts: {found}/{fields} printed fields found ({100 * found / max(fields, 1):.1f}%)")


def chart_parsing(n: int) -> None:
    for task in (ChartBarTask, ChartLineTask, ChartPieTask):
        close = values = 0
        for difficulty in (0, 1, 2):
            for example in task(task.Config(difficulty=difficulty)).load("test", seed=5000, limit=n):
                data = _call("chart_to_table", {"image": "image_0", "backend": "classical"}, example) or {}
                read = {str(row[0]).strip().lower(): row[1:] for row in data.get("rows", []) if row}
                for row in example.metadata["table"]["rows"]:
                    got = read.get(str(row[0]).lower(), [])
                    for j, value in enumerate(row[1:]):
                        values += 1
                        try:
                            close += j < len(got) and abs(float(got[j]) - value) <= 0.05 * abs(value)
                        except (TypeError, ValueError):
                            pass
        print(f"== chart_to_table (classical) on {task.name}: {close}/{values} values within 5% "
              f"({100 * close / max(values, 1):.1f}%)")


def oracle_execution(n: int, tools: dict, names: set[str]) -> None:
    """Run every oracle's tool calls for real; where the last tool's output is the answer itself (a value from
    chart_analysis, geometry_solve or calculator) score it, so the figure says how often an expert trajectory
    built from the oracle would end correct without further reasoning."""
    print("== oracle tool calls run for real (answer taken from the last tool's value where it gives one)")
    for task in PROCEDURAL_TASKS:
        if names and task.name not in names:
            continue
        calls = failed = scored = correct = 0
        for difficulty in (0, 1, 2):
            generator = type(task)(type(task.config)(difficulty=difficulty))
            for example in generator.load("test", seed=6000, limit=n):
                steps = generator.oracle(example).steps
                if any(step.tool not in tools for step in steps):
                    continue
                data = None
                for step in steps:
                    calls += 1
                    data = _call(step.tool, step.arguments, example)
                    failed += data is None
                value = (data or {}).get("value") if steps[-1].tool != "calculator" else (data or {}).get("numeric")
                if value is not None:
                    scored += 1
                    correct += generator.score(str(value), example) == 1.0
        print(f"   {task.name:18} {calls} calls, {failed} failed; answer from the last tool right in "
              f"{correct}/{scored}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="examples per task and difficulty for generation")
    parser.add_argument("--tool-n", type=int, default=6, help="examples per task and difficulty for tool runs")
    parser.add_argument("--only", nargs="*", help="run only these parts: generation, oracles and/or tool names")
    parser.add_argument("--tasks", nargs="*", help="oracle runs: only these tasks (default all)")
    args = parser.parse_args()
    wanted = set(args.only or ())
    if not wanted or "generation" in wanted:
        generation(args.n)
    tools = vista.load_plugins("all").tools
    for name, run in (("detect_objects", detection), ("ocr_read_table", table_ocr), ("ocr_read_text", receipt_ocr),
                      ("chart_to_table", chart_parsing)):
        if wanted and name not in wanted:
            continue
        if name in tools:
            run(args.tool_n)
        else:
            print(f"== {name}: not installed, skipped")
    if not wanted or "oracles" in wanted:
        oracle_execution(args.tool_n, tools, set(args.tasks or ()))


if __name__ == "__main__":
    main()
