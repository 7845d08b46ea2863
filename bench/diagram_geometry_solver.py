"""How often the diagram tools solve procedural geometry problems, three ways:

- formal:      geometry_solve on the formal description stored with the problem (constraints + goal);
- image+text:  geometry_formalize on the rendered diagram and the problem's prose (the formal description removed),
               then geometry_solve;
- text only:   geometry_text_to_cdl on the prose alone, then geometry_solve (what the diagram adds).

Real problems: the Geometry3K problems in ../shared/data/geometry3k (the release's per-problem folders), solved two
ways and scored by vista_tasks' Geometry3K scorer (Inter-GPS's nearest-choice rule), beside Inter-GPS's published
accuracy on the Geometry3K test set (Lu et al., ACL 2021: 57.5% with its own diagram and text parsers,
78.3% from the annotated logic forms):

- annotated:   geometry_solve on the annotated text and diagram logic forms (logic_form.json) converted to our CDL
               (vista_tools_diagram.intergps);
- image+text:  geometry_formalize on img_diagram.png and problem_text, then geometry_solve.

Procedural problems come from vista_tasks' `geometry_diagram` task when it is installed (scored by the task's own
scorer), and from the generator in vista_tools_diagram/tests/geometry_problems.py, whose prose leaves more to the
diagram.
Also reports how well the diagram's labelled points and drawn segments are recovered.

    .venv/bin/python bench/diagram_geometry_solver.py [--per-difficulty 30] [--own 48] [--geometry3k DIR]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import vista
from vista_tools_diagram.formalize import formalize
from vista_tools_diagram.solver import GeometryError, solve
from vista_tools_diagram.text_parser import parse_text

HERE = Path(__file__).resolve().parent


def _value(constraints: list[str], goal: str) -> float | None:
    try:
        return solve(constraints, goal).value
    except GeometryError:
        return None


def _structure(prims, points: dict, segments: list) -> tuple[int, int, int, int]:
    """(labelled points found, points in the figure, drawn segments found, segments in the figure)."""
    found_points = sum(name in prims.points for name in points)
    drawn = {frozenset(line[i:i + 2]) for line in prims.lines for i in range(len(line) - 1)}
    # a figure segment with points on it is drawn as its pieces; count it when all pieces are found
    hits = 0
    for p, q in segments:
        inner = [n for n in points if n not in (p, q) and _between(points[p], points[n], points[q])]
        chain = sorted([p, q, *inner], key=lambda n: math.dist(points[p], points[n]))
        hits += all(frozenset(chain[i:i + 2]) in drawn for i in range(len(chain) - 1))
    return found_points, len(points), hits, len(segments)


def _between(a, m, b) -> bool:
    return abs(math.dist(a, m) + math.dist(m, b) - math.dist(a, b)) < 1e-6 * max(1.0, math.dist(a, b))


def _report(title: str, rows: list[dict]) -> None:
    print(f"\n== {title}: {len(rows)} problems")
    by_kind: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_kind[row["kind"]].append(row)
    print(f"{'problem type':<18}{'n':>4}{'formal':>9}{'image+text':>12}{'text only':>11}")
    for kind in sorted(by_kind):
        group = by_kind[kind]
        shares = [sum(r[k] for r in group) / len(group) for k in ("formal", "image_text", "text")]
        print(f"{kind:<18}{len(group):>4}" + "".join(f"{s:>{w}.0%}" for s, w in zip(shares, (9, 12, 11))))
    n = len(rows)
    print(f"{'all':<18}{n:>4}" + "".join(f"{sum(r[k] for r in rows) / n:>{w}.1%}"
                                         for k, w in (("formal", 9), ("image_text", 12), ("text", 11))))
    pts = [sum(r["structure"][i] for r in rows) for i in range(4)]
    print(f"diagram structure: labelled points found {pts[0]}/{pts[1]} ({pts[0] / pts[1]:.1%}), "
          f"drawn segments found {pts[2]}/{pts[3]} ({pts[2] / pts[3]:.1%})")
    print(f"seconds per problem: solve from formal {sum(r['t_formal'] for r in rows) / n:.2f}, "
          f"formalize+solve from image+text {sum(r['t_image'] for r in rows) / n:.2f}")


def vista_tasks_rows(per_difficulty: int) -> list[dict]:
    registry = vista.load_plugins("all")
    if "geometry_diagram" not in registry.tasks:
        print("vista_tasks' geometry_diagram task is not installed; skipping it")
        return []
    base = registry.task("geometry_diagram")
    rows = []
    for difficulty in (0, 1, 2):
        task = type(base)(type(base).Config(difficulty=difficulty))
        for example in task.load("test", seed=1000 * difficulty, limit=per_difficulty):
            form = example.metadata["logic_form"]
            prose = example.question.split("\nFormal description:")[0]
            t0 = time.perf_counter()
            formal = _value(form["constraints"], form["goal"])
            t1 = time.perf_counter()
            result = formalize(example.open_images()[0], prose)
            image_text = _value(result.constraints, result.goal)
            t2 = time.perf_counter()
            parsed = parse_text(prose)
            text = _value(parsed.constraints, parsed.goal) if parsed.goal else None

            points = {k: tuple(v) for k, v in example.metadata["points"].items()}
            correct = {name: value is not None and task.score(f"{value:.2f}", example) == 1.0
                       for name, value in (("formal", formal), ("image_text", image_text), ("text", text))}
            rows.append({"kind": example.metadata["problem_type"], **correct, "t_formal": t1 - t0,
                         "t_image": t2 - t1,
                         "structure": _structure(result.primitives, points, example.metadata["segments"])})
    return rows


def own_rows(n: int) -> list[dict]:
    sys.path.insert(0, str(HERE.parent / "vista_tools_diagram" / "tests"))
    from geometry_problems import problems, render

    rows = []
    for i, problem in enumerate(problems(n, seed=7)):
        image = render(problem, seed=i)
        t0 = time.perf_counter()
        formal = _value(problem.constraints, problem.goal)
        t1 = time.perf_counter()
        result = formalize(image, problem.text)
        image_text = _value(result.constraints, result.goal)
        t2 = time.perf_counter()
        parsed = parse_text(problem.text)
        text = _value(parsed.constraints, parsed.goal) if parsed.goal else None

        correct = {name: value is not None and abs(value - problem.answer) <= 1e-6 * max(1.0, abs(problem.answer))
                   for name, value in (("formal", formal), ("image_text", image_text), ("text", text))}
        rows.append({"kind": problem.kind, **correct, "t_formal": t1 - t0, "t_image": t2 - t1,
                     "structure": _structure(result.primitives, problem.points, problem.segments)})
    return rows


def geometry3k_rows(root: Path) -> list[dict]:
    """One row per Geometry3K problem under `root` (split folders of <id>/ problems): right or not each way."""
    import json

    from PIL import Image
    from vista_tasks.benchmarks import Geometry3K
    from vista_tools_diagram.intergps import convert

    task, rows = Geometry3K(), []
    for split in task.splits:
        if not task.has_split(root, split):
            continue
        for example in task.load(split, root):
            folder = root / split / example.id
            form = json.loads((folder / "logic_form.json").read_text(encoding="utf-8"))
            text = json.loads((folder / "data.json").read_text(encoding="utf-8"))["problem_text"]
            t0 = time.perf_counter()
            converted = convert(form.get("text_logic_form", []), form.get("diagram_logic_form", []),
                                point_positions=form.get("point_positions"), line_instances=form.get("line_instances"))
            annotated = _value(converted.constraints, converted.goal) if converted.goal else None
            t1 = time.perf_counter()
            with Image.open(example.images[0]) as image:
                result = formalize(image.convert("RGB"), text)
            image_text = _value(result.constraints, result.goal) if result.goal else None
            t2 = time.perf_counter()
            right = {name: value is not None and task.score(f"{float(value)}", example) == 1.0
                     for name, value in (("annotated", annotated), ("image_text", image_text))}
            rows.append({"id": f"{split}/{example.id}", "kind": ",".join(example.metadata.get("problem_type_goal")
                                                                         or []) or "?",
                         **right, "skipped": len(converted.skipped), "t_annotated": t1 - t0, "t_image": t2 - t1})
    return rows


def _report_geometry3k(rows: list[dict]) -> None:
    n = len(rows)
    print(f"\n== Geometry3K (real release problems): {n} problems, scored by the nearest-choice rule")
    print(f"{'problem':<12}{'goal':<10}{'annotated':>11}{'image+text':>12}{'forms left out':>16}")
    for row in rows:
        print(f"{row['id']:<12}{row['kind']:<10}{'right' if row['annotated'] else '-':>11}"
              f"{'right' if row['image_text'] else '-':>12}{row['skipped']:>16}")
    for key, label, published in (("annotated", "from annotated logic forms", "78.3%"),
                                  ("image_text", "from diagram + text (geometry_formalize)", "57.5%")):
        solved = sum(r[key] for r in rows)
        print(f"solved right {label}: {solved}/{n} = {solved / n:.1%}   (Inter-GPS, Geometry3K test: {published})")
    print(f"seconds per problem: annotated {sum(r['t_annotated'] for r in rows) / n:.2f}, "
          f"image+text {sum(r['t_image'] for r in rows) / n:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-difficulty", type=int, default=30, help="vista_tasks problems per difficulty")
    parser.add_argument("--own", type=int, default=48, help="problems from the package's own generator")
    parser.add_argument("--geometry3k", type=Path, default=HERE.parent.parent / "shared" / "data" / "geometry3k",
                        help="a Geometry3K release folder (train/<id>/...); skipped when absent")
    parser.add_argument("--only-geometry3k", action="store_true", help="run only the Geometry3K part")
    args = parser.parse_args()
    random.seed(0)
    if args.geometry3k.is_dir():
        _report_geometry3k(geometry3k_rows(args.geometry3k))
    else:
        print(f"no Geometry3K data at {args.geometry3k}; skipping the real problems")
    if args.only_geometry3k:
        return
    rows = vista_tasks_rows(args.per_difficulty)
    if rows:
        _report("vista_tasks geometry_diagram (difficulties 0-2)", rows)
    if args.own:
        _report("vista_tools_diagram test generator (structure left to the diagram)", own_rows(args.own))


if __name__ == "__main__":
    main()
