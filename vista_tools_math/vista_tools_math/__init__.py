"""vista-gym math tools: a safe symbolic calculator and solver on sympy, a sandboxed Python executor, and math
vision-language models (G-LLaVA, MultiMath, any OpenAI-compatible served model) as solvers."""

from __future__ import annotations

import vista

from .solvers import GLlavaSolve, MathVLM, MultimathSolve
from .tools import Calculator, PythonExec, SolveEquation, Symbolic

__all__ = ["Calculator", "GLlavaSolve", "MathVLM", "MultimathSolve", "PythonExec", "SolveEquation", "Symbolic"]


@vista.hookimpl
def register_tools(register) -> None:
    for tool in (Calculator(), SolveEquation(), Symbolic(), PythonExec(), GLlavaSolve(), MultimathSolve(), MathVLM()):
        register(tool)
