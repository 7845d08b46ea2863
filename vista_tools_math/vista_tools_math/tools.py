"""The symbolic tools (`calculator`, `solve_equation`, `symbolic`) and the sandboxed `python_exec`."""

from __future__ import annotations

import functools
from typing import Annotated, Literal

from pydantic import BaseModel, Field
from vista import Tool, ToolArgumentError, ToolArguments, ToolContext, ToolResult

from .bounds import MAX_LENGTH
from .sandbox import SandboxLimits, run_python
from .worker import SympyWorker

NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,23}$"


@functools.cache
def shared_worker() -> SympyWorker:
    """One pool of sympy worker processes for the three symbolic tools of this process."""
    return SympyWorker()


def _ask(argument: str, op: str, **args) -> dict:
    try:
        return shared_worker().call(op, **args)
    except ToolArgumentError as exc:
        raise ToolArgumentError(str(exc), argument=exc.argument or argument) from None


class CalculatorArgs(ToolArguments):
    expression: str = Field(min_length=1, max_length=MAX_LENGTH, description=(
        "an arithmetic expression, e.g. '3/4 + 2*sqrt(3)', '45% * 80', 'sin(30°)', '5!'. Operators + - * / ^ "
        "(or **), % for percent or modulo, parentheses; constants pi, e; functions such as sqrt, cbrt, log, ln, "
        "exp, sin/cos/tan (radians), sind/cosd/tand (degrees), abs, floor, ceil, round, gcd, lcm, binomial"))


class CalculatorOutput(BaseModel):
    value: str = Field(description="the exact value (e.g. '2*sqrt(3)', '3/4'); decimal input gives decimals")
    numeric: float | None = Field(description="the value as a number, or null when it is not a finite real")


class Calculator(Tool):
    name = "calculator"
    family = "math"
    description = ("Evaluate an arithmetic expression exactly (fractions and roots stay exact) and give its numeric "
                   "value. Read, never executed as code.")
    Arguments = CalculatorArgs
    Output = CalculatorOutput
    examples = [{"expression": "2*sqrt(3) + 45% * 80"}, {"expression": "3/4"}]
    blocking = True  # sympy in the worker processes: a call may wait for a free worker, up to its time limit

    def run(self, args: CalculatorArgs, ctx: ToolContext) -> ToolResult:
        reply = _ask("expression", "calculate", expression=args.expression)
        return ToolResult(text=reply["text"], data=reply["data"])


class SolveEquationArgs(ToolArguments):
    equations: list[Annotated[str, Field(min_length=1, max_length=500)]] = Field(
        min_length=1, max_length=10, description=(
        "one or more equations, each with one '=' (an expression without '=' means '= 0'), "
        "e.g. ['x + y = 10', 'x - y = 2'] or ['x^2 - 5x + 6 = 0']"))
    unknowns: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(min_length=1, max_length=10, description=(
        "the variables to solve for, e.g. ['x', 'y']; other names in the equations stay as parameters"))


class SolveEquationOutput(BaseModel):
    solutions: list[dict[str, str]] = Field(description="each solution maps every unknown to its exact value")


class SolveEquation(Tool):
    name = "solve_equation"
    family = "math"
    description = ("Solve equations (or a system of equations) exactly for the given unknowns; lists every "
                   "solution with numeric approximations.")
    Arguments = SolveEquationArgs
    Output = SolveEquationOutput
    examples = [{"equations": ["x + y = 10", "x - y = 2"], "unknowns": ["x", "y"]},
                {"equations": ["x^2 - 5x + 6 = 0"], "unknowns": ["x"]}]
    blocking = True

    def run(self, args: SolveEquationArgs, ctx: ToolContext) -> ToolResult:
        reply = _ask("equations", "solve", equations=args.equations, unknowns=args.unknowns)
        return ToolResult(text=reply["text"], data=reply["data"])


class SymbolicArgs(ToolArguments):
    expression: str = Field(min_length=1, max_length=MAX_LENGTH, description=(
        "an expression in one or more variables, e.g. '(x+1)^2', 'sin(x)^2 + cos(x)^2', 'x^2 * exp(x)'"))
    operation: Literal["simplify", "expand", "factor", "diff", "integrate"] = Field(
        "simplify", description="what to do with the expression; diff and integrate are with respect to 'variable'")
    variable: str | None = Field(None, pattern=NAME_PATTERN, description=(
        "the variable for diff/integrate; may be left out when the expression has only one variable"))


class SymbolicOutput(BaseModel):
    result: str = Field(description="the transformed expression")


class Symbolic(Tool):
    name = "symbolic"
    family = "math"
    description = "Simplify, expand, factor, differentiate or integrate (indefinitely) a symbolic expression."
    Arguments = SymbolicArgs
    Output = SymbolicOutput
    task_argument = "operation"
    examples = [{"expression": "(x+1)^2", "operation": "expand"},
                {"expression": "x^2 * exp(x)", "operation": "diff", "variable": "x"}]
    blocking = True

    def run(self, args: SymbolicArgs, ctx: ToolContext) -> ToolResult:
        reply = _ask("expression", "transform", expression=args.expression, operation=args.operation,
                     variable=args.variable)
        return ToolResult(text=reply["text"], data=reply["data"])


PARTIAL_OUTPUT_CHARS = 2000  # the tail of what a stopped program printed, shown with the error


class PythonExecArgs(ToolArguments):
    code: str = Field(min_length=1, max_length=20_000, description=(
        "a Python program; print() what you need to see. Runs in a sandbox: standard library, numpy and sympy "
        "are available; no network, no subprocesses, files only in the working directory; a few seconds of CPU"))


class PythonExecOutput(BaseModel):
    stdout: str = Field(description="what the program printed (cut at the output limit)")
    stderr: str = Field(description="errors and tracebacks")
    exit_code: int = Field(description="0 when the program ended normally")


class PythonExec(Tool):
    name = "python_exec"
    family = "math"
    description = ("Run a short Python program in a sandbox and return what it printed. For computation only: "
                   "no network, no files outside its folder, limited CPU time and memory.")
    Arguments = PythonExecArgs
    Output = PythonExecOutput
    examples = [{"code": "import math\nprint(math.comb(10, 3), sum(i * i for i in range(10)))"}]
    blocking = True

    def __init__(self, limits: SandboxLimits | None = None):
        self.limits = limits or SandboxLimits()

    def run(self, args: PythonExecArgs, ctx: ToolContext) -> ToolResult:
        run = run_python(args.code, self.limits)
        limits = self.limits
        # A stopped program's output so far goes with the error: it shows the policy how far the program got.
        printed = f"\n[printed before it was stopped]\n{run.stdout[-PARTIAL_OUTPUT_CHARS:]}" if run.stdout else ""
        if run.violation is not None:
            raise ToolArgumentError(f"the program was stopped: {run.violation}{printed}", argument="code")
        if run.limit == "cpu":
            raise ToolArgumentError(f"the program used more than {limits.cpu_s} s of CPU time and was stopped; "
                                    f"use a faster algorithm or smaller inputs{printed}", argument="code")
        if run.limit == "wall":
            raise ToolArgumentError(f"the program ran longer than {limits.wall_s:g} s and was stopped "
                                    f"(waiting or looping); make it finish sooner{printed}", argument="code")
        if run.limit == "memory":
            raise ToolArgumentError(f"the program needed more than {limits.memory_mb} MiB of memory and was "
                                    f"stopped; use smaller data{printed}", argument="code")
        text = run.stdout
        if run.stderr:
            text += ("\n" if text else "") + f"[stderr]\n{run.stderr}"
        if run.exit_code != 0:
            text += f"\n[exit code {run.exit_code}]"
        return ToolResult(text=text or "(no output)",
                          data={"stdout": run.stdout, "stderr": run.stderr, "exit_code": run.exit_code})
