"""Measure the math tools' overheads: sandbox start-up per python_exec call, and calculator throughput.

    .venv/bin/python bench/math_sandbox.py [--runs 20] [--evals 2000]

Prints milliseconds per sandboxed call (an empty program, and one that imports numpy), the same through the full
tool path (vista.call_tool), and calculator evaluations per second in process (parser + sympy) and through the tool
(which adds the round trip to the sympy worker process).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import vista
from vista_tools_math.algebra import calculate
from vista_tools_math.sandbox import SandboxLimits, network_isolation, run_python
from vista_tools_math.tools import Calculator, PythonExec

EXPRESSIONS = ["3/4 + 2*sqrt(3)", "45% * 80", "sin(30°) + cosd(60)", "(1+2)(3+4)^2 / 7", "round(2.345, 2) * 10",
               "gcd(12, 18) + lcm(4, 6)", "2^10 - 5!", "log(8, 2) + ln(e)"]


def timed(fn, n: int) -> list[float]:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times


def describe(label: str, times: list[float]) -> None:
    print(f"{label:<48} median {statistics.median(times):8.1f} ms   mean {statistics.mean(times):8.1f} ms   "
          f"min {min(times):8.1f} ms   (n={len(times)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--evals", type=int, default=2000)
    args = parser.parse_args()
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f}, "
          f"network namespace: {' '.join(network_isolation()) or 'unavailable'}")
    limits = SandboxLimits(wall_s=60)
    run_python("pass", limits)  # warm the page cache
    describe("sandbox start-up (empty program)", timed(lambda: run_python("pass", limits), args.runs))
    describe("sandbox + `import numpy`", timed(lambda: run_python("import numpy", limits), max(3, args.runs // 4)))
    tools = {"python_exec": PythonExec(limits), "calculator": Calculator()}
    describe("python_exec via vista.call_tool (print(1))",
             timed(lambda: vista.call_tool("python_exec", {"code": "print(1)"}, tools=tools), args.runs))

    start = time.perf_counter()
    for i in range(args.evals):
        calculate(EXPRESSIONS[i % len(EXPRESSIONS)])
    in_process = args.evals / (time.perf_counter() - start)
    vista.call_tool("calculator", {"expression": "1+1"}, tools=tools)  # start the sympy worker
    start = time.perf_counter()
    for i in range(args.evals):
        result = vista.call_tool("calculator", {"expression": EXPRESSIONS[i % len(EXPRESSIONS)]}, tools=tools)
        assert result.ok, result.error
    through_tool = args.evals / (time.perf_counter() - start)
    print(f"{'calculator, in process (parse + sympy)':<48} {in_process:8.0f} evaluations/s")
    print(f"{'calculator via vista.call_tool (worker process)':<48} {through_tool:8.0f} evaluations/s")


if __name__ == "__main__":
    main()
