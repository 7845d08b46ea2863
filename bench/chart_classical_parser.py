"""Measure the classical chart parser (`chart_to_table`, backend "classical") on procedurally drawn charts.

For each chart type it draws N charts with known data in random styles (fonts, palettes, gridlines, value labels,
markers, legends), parses them, and prints the share of charts whose every value is within 5% of the truth, and
the seconds per chart. Charts come from vista_tasks' procedural generator when it is installed, else from this
package's own renderer (`vista_tools_chart.render`).

    python bench/chart_classical_parser.py            # 20 charts per type
    python bench/chart_classical_parser.py -n 5 --source own
"""

from __future__ import annotations

import argparse
import random
import time

from vista_tools_chart.classical import ChartParseError, parse_chart
from vista_tools_chart.tables import values_within


def procedural_charts(n: int, seed: int):
    from vista_tasks.procedural.charts import CHART_KINDS, random_chart_data, random_style, render_chart

    for kind in CHART_KINDS:
        for i in range(n):
            rng = random.Random(f"{seed}-{kind}-{i}")
            data = random_chart_data(rng, kind, difficulty=rng.choice((0, 1, 2)))
            style = random_style(rng, 1)
            yield kind, render_chart(data, kind, style), data.table()


def own_charts(n: int, seed: int):
    from vista_tools_chart.render import KINDS, random_chart, render

    for kind in KINDS:
        for i in range(n):
            spec = random_chart(kind, random.Random(f"{seed}-{kind}-{i}"))
            yield kind, render(spec), spec.table()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="charts per type")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("auto", "procedural", "own"), default="auto")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every failed chart")
    args = parser.parse_args()
    source = args.source
    if source == "auto":
        try:
            import vista_tasks.procedural.charts  # noqa: F401
            source = "procedural"
        except ImportError:
            source = "own"
    charts = procedural_charts(args.n, args.seed) if source == "procedural" else own_charts(args.n, args.seed)
    stats: dict[str, list] = {}
    for kind, image, truth in charts:
        start = time.perf_counter()
        try:
            table = parse_chart(image).table()
            ok = values_within(truth, table, 0.05)
        except ChartParseError as exc:
            table, ok = str(exc), False
        seconds = time.perf_counter() - start
        stats.setdefault(kind, []).append((ok, seconds))
        if args.verbose and not ok:
            print(f"  {kind}: truth {truth}\n     got {table}")
    print(f"charts from: {source}; {args.n} per type; every value within 5% of the truth")
    print(f"{'type':<16}{'charts':>7}{'all within 5%':>15}{'s/chart':>9}")
    total_ok = total = 0
    for kind, rows in stats.items():
        good = sum(ok for ok, _ in rows)
        total_ok, total = total_ok + good, total + len(rows)
        print(f"{kind:<16}{len(rows):>7}{good / len(rows):>15.0%}{sum(s for _, s in rows) / len(rows):>9.2f}")
    print(f"{'all':<16}{total:>7}{total_ok / max(total, 1):>15.0%}")


if __name__ == "__main__":
    main()
