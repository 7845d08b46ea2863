"""Measure the classical chart parser (`chart_to_table`, backend "classical") on charts of known data.

By default the charts come from `vista_tools_chart.render.evaluation_chart`: matplotlib's built-in style sheets,
split into development sheets (the parser may be tuned on them) and measure-only sheets (never tuned on), with font
families, DPI, figure sizes, value labels, legend places, gridlines, markers and series magnitudes drawn per chart.
For each split and chart type it prints the share of charts read right (every category found, every value within 5%
of the truth, or within 1% of the chart's largest value for a bar too short to read to 5%) and the seconds per chart
(parse only; drawing is not timed), wall clock and CPU (all of the process's threads: on a loaded machine the wall
clock grows with the load, the CPU time much less). `--source procedural` measures on `vista_tasks`' task
generator instead.

`--source vega` measures on charts drawn by Vega-Lite (vl-convert; `vista_tools_chart.render_vega`), a second plotting
library with its own layout, fonts and themes, split into development and measure-only themes the same way and
reported apart. `--source plotly` measures on charts drawn by Plotly (plotly.js in headless Chromium, offline;
`vista_tools_chart.render_plotly`), a third library with its own layout and templates, split into development and
measure-only templates the same way. `--source bokeh` measures on charts drawn by Bokeh (BokehJS in headless
Chromium, offline; `vista_tools_chart.render_bokeh`), a fourth library with its own layout, themes, fonts, label
angles, legend places and toolbars, split into development and measure-only styles the same way. `--source all` (the
default) runs the matplotlib sheets, the Vega-Lite themes, the Plotly templates, the Bokeh styles and FigureQA.

`--source figureqa` answers FigureQA's own questions about its bar charts and pies (minimum, maximum, less/greater
than, low/high median; `vista_tools_chart.chart_questions`) from the table the parser reads, on the figures of an
extracted FigureQA split (default `../shared/data/figureqa/sample_train1`, whose 60 figures and 688 questions are
measure-only: never tuned on). It reports per figure type the share of questions answered right (a colour missing
from the table counts as wrong), the figures whose table holds every colour a question names, and seconds per figure.
`--figures 60-400` picks figures by index (the development figures came from the same release's other figures).

    python bench/chart_classical_parser.py                    # everything: 20 charts per type and split, FigureQA
    python bench/chart_classical_parser.py --source evaluation  # matplotlib's sheets only
    python bench/chart_classical_parser.py --source vega -n 10
    python bench/chart_classical_parser.py --source plotly -n 10 --split dev -v
    python bench/chart_classical_parser.py --source bokeh -n 10
    python bench/chart_classical_parser.py -n 5 --split dev -v
    python bench/chart_classical_parser.py --source procedural
    python bench/chart_classical_parser.py --source figureqa
"""

from __future__ import annotations

import argparse
import json
import random
import re
import time
from collections.abc import Iterator
from pathlib import Path

from PIL import Image
from vista_tools_chart.chart_questions import TEMPLATES, answer
from vista_tools_chart.classical import ChartParseError, parse_chart
from vista_tools_chart.tables import read_right

BAR_KINDS = ("bar", "horizontal_bar", "grouped_bar", "bar_vertical", "bar_horizontal", "bar_grouped")


def evaluation_charts(split: str, n: int, seed: int) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tools_chart.render import evaluation_charts as charts
    from vista_tools_chart.render import render

    for kind, spec in charts(split, n, seed):
        yield kind, spec.style_sheet, render(spec), spec.table()


def vega_charts(split: str, n: int, seed: int, variety: bool = False) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tools_chart.render_vega import render_vega
    from vista_tools_chart.render_vega import vega_charts as charts

    for kind, theme, spec, truth in charts(split, n, seed, variety=variety):
        yield kind, theme, render_vega(spec), truth


def plotly_charts(split: str, n: int, seed: int, variety: bool = False) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tools_chart.render_plotly import PlotlyBrowser
    from vista_tools_chart.render_plotly import plotly_charts as charts

    with PlotlyBrowser() as browser:
        for kind, template, figure, truth in charts(split, n, seed, variety=variety):
            yield kind, template, browser.render(figure), truth


def bokeh_charts(split: str, n: int, seed: int) -> Iterator[tuple[str, str, Image.Image, dict]]:
    from vista_tools_chart.render_bokeh import BokehBrowser
    from vista_tools_chart.render_bokeh import bokeh_charts as charts

    with BokehBrowser() as browser:
        for kind, theme, chart, truth in charts(split, n, seed):
            yield kind, theme, browser.render(chart), truth


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


FIGUREQA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "figureqa" / "sample_train1"


def figureqa(folder: Path, figures: range | None, verbose: bool) -> None:
    pairs = json.loads((folder / "qa_pairs.json").read_text())["qa_pairs"]
    by_figure: dict[int, list[dict]] = {}
    for pair in pairs:
        if pair["question_id"] in TEMPLATES and (figures is None or pair["image_index"] in figures):
            by_figure.setdefault(pair["image_index"], []).append(pair)
    stats: dict[str, list[tuple[int, int, bool, float, float]]] = {}
    for index, questions in sorted(by_figure.items()):
        path = folder / "png" / f"{index}.png"
        if not path.is_file():
            continue
        image = Image.open(path)
        start, cpu = time.perf_counter(), time.process_time()
        try:
            parse = parse_chart(image)
            table, kind = parse.table(), parse.chart_type
        except ChartParseError as exc:
            table, kind = {"header": [], "rows": []}, f"error: {exc}"
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        right, every_colour, wrong = 0, True, []
        for q in questions:
            got = answer(table, TEMPLATES[q["question_id"]], q["color1_name"], q["color2_name"])
            every_colour &= got is not None
            right += got == bool(q["answer"])
            if got != bool(q["answer"]):
                wrong.append(q["question_string"])
        kind = kind if kind in ("bar", "horizontal_bar", "pie") else "other"
        stats.setdefault(kind, []).append((right, len(questions), every_colour, seconds, cpu))
        if verbose and wrong:
            print(f"  {index}.png [{kind}]: {len(wrong)} wrong ({'; '.join(wrong[:3])})\n     got {table}", flush=True)
    print(f"FigureQA questions answered from the table, {folder}")
    print(f"{'type':<16}{'figures':>8}{'questions':>10}{'right':>8}{'all colours':>13}{'s/figure':>10}{'CPU s':>7}")
    rows = [r for kind_rows in stats.values() for r in kind_rows]
    for kind, kind_rows in [*sorted(stats.items()), ("all", rows)]:
        n, asked = max(len(kind_rows), 1), sum(r[1] for r in kind_rows)
        print(f"{kind:<16}{len(kind_rows):>8}{asked:>10}{sum(r[0] for r in kind_rows) / max(asked, 1):>8.1%}"
              f"{sum(r[2] for r in kind_rows):>9}/{len(kind_rows):<3}{sum(r[3] for r in kind_rows) / n:>10.2f}"
              f"{sum(r[4] for r in kind_rows) / n:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20, help="charts per type (and per split)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", default="all",
                        choices=("all", "evaluation", "vega", "plotly", "bokeh", "procedural", "figureqa"))
    parser.add_argument("--figureqa", type=Path, default=FIGUREQA, help="an extracted FigureQA split's folder")
    parser.add_argument("--figures", help="FigureQA figures by index, FIRST-END (end excluded); default all")
    parser.add_argument("--split", choices=("dev", "measure", "both"), default="both",
                        help="style sheets, themes, templates or styles: development, measure-only, or both")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every chart not read right")
    parser.add_argument("--variety", action="store_true",
                        help="development charts restyled with settings the plain ones leave at their defaults "
                             "(fonts, angles, formats, legends, schemes, sizes...): Vega-Lite and Plotly, "
                             "--split dev only")
    args = parser.parse_args()
    if args.variety and args.split != "dev":
        parser.error("--variety widens the development split only: give --split dev")
    if args.variety and args.source not in ("vega", "plotly"):
        parser.error("--variety restyles Vega-Lite's and Plotly's charts: give --source vega or --source plotly")
    if args.source in ("all", "figureqa") and not (args.figureqa / "qa_pairs.json").is_file():
        parser.error(f"--figureqa {args.figureqa} holds no qa_pairs.json: give an extracted FigureQA split's folder "
                     f"(e.g. {FIGUREQA}), or leave out FigureQA with --source evaluation|vega|plotly|bokeh|procedural")
    if args.figures and not re.fullmatch(r"\d+-\d+", args.figures):
        parser.error(f"--figures {args.figures!r} is not FIRST-END (e.g. 0-20)")
    criterion = "every category found, every value within 5% (a bar: or within 1% of the largest)"
    if args.source == "procedural":
        report(f"vista_tasks procedural charts, {args.n} per type; {criterion}",
               measure(procedural_charts(args.n, args.seed), args.verbose))
        return
    splits = ("dev", "measure") if args.split == "both" else (args.split,)
    names = {"dev": "development", "measure": "measure-only"}
    if args.source in ("all", "evaluation"):
        for split in splits:
            stats = measure(evaluation_charts(split, args.n, args.seed), args.verbose)
            report(f"matplotlib, {names[split]} style sheets, {args.n} charts per type; {criterion}", stats)
    if args.source in ("all", "vega"):
        for split in splits:
            stats = measure(vega_charts(split, args.n, args.seed, args.variety), args.verbose)
            restyled = ", restyled" if args.variety else ""
            report(f"Vega-Lite (vl-convert), {names[split]} themes{restyled}, {args.n} charts per type; {criterion}",
                   stats)
    if args.source in ("all", "plotly"):
        for split in splits:
            stats = measure(plotly_charts(split, args.n, args.seed, args.variety), args.verbose)
            restyled = ", restyled" if args.variety else ""
            report(f"Plotly (plotly.js in Chromium), {names[split]} templates{restyled}, {args.n} charts per type; "
                   f"{criterion}", stats)
    if args.source in ("all", "bokeh"):
        for split in splits:
            stats = measure(bokeh_charts(split, args.n, args.seed), args.verbose)
            report(f"Bokeh (BokehJS in Chromium), {names[split]} styles, {args.n} charts per type; {criterion}", stats)
    if args.source in ("all", "figureqa"):
        first, _, end = (args.figures or "").partition("-")
        figureqa(args.figureqa, range(int(first), int(end)) if args.figures else None, args.verbose)


if __name__ == "__main__":
    main()
