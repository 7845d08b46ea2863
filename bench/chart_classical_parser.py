"""Measure the classical chart parser (`chart_to_table`, backend "classical") on charts of known data.

By default the charts come from `vista_tools_chart.render.evaluation_chart`: matplotlib's built-in style sheets,
split into development sheets (the parser may be tuned on them) and measure-only sheets (never tuned on), with font
families, DPI, figure sizes, value labels, legend places, gridlines, markers and series magnitudes drawn per chart.
For each split and chart type it prints the share of charts read right (every category found, every value within 5%
of the truth, or within 1% of the chart's largest value for a bar too short to read to 5%) and the seconds per chart
(parse only; drawing is not timed), wall clock and CPU (all of the process's threads: on a loaded machine the wall
clock grows with the load, the CPU time much less). `--source procedural` measures on `vista_tasks`' task
generator instead.

    python bench/chart_classical_parser.py                    # 20 charts per type, dev and measure-only sheets
    python bench/chart_classical_parser.py -n 5 --split dev -v
    python bench/chart_classical_parser.py --source procedural
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator

from PIL import Image
from vista_tools_chart.classical import ChartParseError, parse_chart
from vista_tools_chart.tables import read_right

BAR_KINDS = ("bar", "horizontal_bar", "grouped_bar", "bar_vertical", "bar_horizontal", "bar_grouped")


def evaluation_charts(split: str, n: int, seed: int) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tools_chart.render import evaluation_charts as charts
    from vista_tools_chart.render import render

    for kind, spec in charts(split, n, seed):
        yield kind, spec.style_sheet, render(spec), spec.table()


def procedural_charts(n: int, seed: int) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tasks.procedural.charts import CHART_KINDS, random_chart_data, random_style, render_chart

    for kind in CHART_KINDS:
        for i in range(n):
            rng = random.Random(f"{seed}-{kind}-{i}")
            data = random_chart_data(rng, kind, difficulty=rng.choice((0, 1, 2)))
            style = random_style(rng, 1)
            yield kind, "procedural", render_chart(data, kind, style), data.table()


def measure(charts, verbose: bool) -> dict[str, list[tuple[bool, float, float]]]:
    stats: dict[str, list[tuple[bool, float, float]]] = {}
    for kind, sheet, image, truth in charts:
        start, cpu = time.perf_counter(), time.process_time()
        try:
            table = parse_chart(image).table()
        except ChartParseError as exc:
            table = str(exc)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        ok = isinstance(table, dict) and read_right(truth, table, bars=kind in BAR_KINDS)
        stats.setdefault(kind, []).append((ok, seconds, cpu))
        if verbose and not ok:
            print(f"  {kind} [{sheet}, {image.width}x{image.height}]: truth {truth}\n     got {table}", flush=True)
    return stats


def report(title: str, stats: dict[str, list[tuple[bool, float, float]]]) -> None:
    print(title)
    print(f"{'type':<16}{'charts':>7}{'read right':>12}{'s/chart':>9}{'CPU s/chart':>13}")
    rows = [r for kind_rows in stats.values() for r in kind_rows]
    for kind, kind_rows in [*stats.items(), ("all", rows)]:
        n = max(len(kind_rows), 1)
        good = sum(ok for ok, _, _ in kind_rows)
        seconds, cpu = sum(s for _, s, _ in kind_rows) / n, sum(c for _, _, c in kind_rows) / n
        print(f"{kind:<16}{len(kind_rows):>7}{good / n:>12.0%}{seconds:>9.2f}{cpu:>13.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="charts per type (and per split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("evaluation", "procedural"), default="evaluation")
    parser.add_argument("--split", choices=("dev", "measure", "both"), default="both",
                        help="evaluation style sheets: development, measure-only, or both")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every chart not read right")
    args = parser.parse_args()
    criterion = "every category found, every value within 5% (a bar: or within 1% of the largest)"
    if args.source == "procedural":
        report(f"vista_tasks procedural charts, {args.n} per type; {criterion}",
               measure(procedural_charts(args.n, args.seed), args.verbose))
        return
    for split in ("dev", "measure") if args.split == "both" else (args.split,):
        name = {"dev": "development", "measure": "measure-only"}[split]
        stats = measure(evaluation_charts(split, args.n, args.seed), args.verbose)
        report(f"{name} style sheets, {args.n} charts per type; {criterion}", stats)


if __name__ == "__main__":
    main()
