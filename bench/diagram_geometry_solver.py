"""How often the diagram tools solve procedural geometry problems, three ways:

- formal:      geometry_solve on the formal description stored with the problem (constraints + goal);
- image+text:  geometry_formalize on the rendered diagram and the problem's prose (the formal description removed),
               then geometry_solve;
- text only:   geometry_text_to_cdl on the prose alone, then geometry_solve (what the diagram adds).

Problems come from vista_tasks' `geometry_diagram` task when it is installed (scored by the task's own scorer), and
from the generator in vista_tools_diagram/tests/geometry_problems.py, whose prose leaves more to the diagram.
Also reports how well the diagram's labelled points and drawn segments are recovered.

    .venv/bin/python bench/diagram_geometry_solver.py [--per-difficulty 30] [--own 48]
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-difficulty", type=int, default=30, help="vista_tasks problems per difficulty")
    parser.add_argument("--own", type=int, default=48, help="problems from the package's own generator")
    args = parser.parse_args()
    random.seed(0)
    rows = vista_tasks_rows(args.per_difficulty)
    if rows:
        _report("vista_tasks geometry_diagram (difficulties 0-2)", rows)
    if args.own:
        _report("vista_tools_diagram test generator (structure left to the diagram)", own_rows(args.own))


if __name__ == "__main__":
    main()
