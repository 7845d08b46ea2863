"""The error taxonomy E1–E6, and the classified error every failed step carries.

E1–E4 are the policy's mistakes when calling a tool, E5 is a tool breaking its own contract, E6 is reasoning that
went wrong after valid tool output. Three more classes sit beside them: a wrong answer reached without any valid tool
output (NO_TOOL: the paper's E6 is reasoning *after* valid tool output, so reasoning alone is kept apart), protocol
format violations (FORMAT) and infrastructure failures that are nobody's reasoning error (TOOL_FAILURE: a tool
crashed, timed out or was unreachable).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import Enum

from pydantic import BaseModel, ConfigDict


class ErrorClass(str, Enum):
    E1 = "E1"
    E2 = "E2"
    E3 = "E3"
    E4 = "E4"
    E5 = "E5"
    E6 = "E6"
    NO_TOOL = "NO_TOOL"
    FORMAT = "FORMAT"
    TOOL_FAILURE = "TOOL_FAILURE"

    @property
    def description(self) -> str:
        return ERROR_DESCRIPTIONS[self]


ERROR_DESCRIPTIONS: dict[ErrorClass, str] = {
    ErrorClass.E1: "call schema violation: not JSON, wrong structure, or unknown tool",
    ErrorClass.E2: "wrong argument name: unknown or missing argument",
    ErrorClass.E3: "wrong argument value: type, format or range",
    ErrorClass.E4: "wrong argument content: valid by schema but semantically wrong",
    ErrorClass.E5: "tool output invalid: the tool's output violates its output schema",
    ErrorClass.E6: "wrong reasoning: final answer wrong after valid tool output",
    ErrorClass.NO_TOOL: "wrong answer without valid tool output: reasoning alone (not E6, which follows tool output)",
    ErrorClass.FORMAT: "protocol format violation: tags missing, unbalanced, out of order or repeated",
    ErrorClass.TOOL_FAILURE: "tool failure: the tool crashed, timed out or was unreachable",
}

# The policy-attributable classes, in the order the paper's error-attribution table lists them.
TAXONOMY: tuple[ErrorClass, ...] = (
    ErrorClass.E1, ErrorClass.E2, ErrorClass.E3, ErrorClass.E4, ErrorClass.E5, ErrorClass.E6,
)


# TOOL_FAILURE codes whose cause lies outside the policy's control: the tool could not be reached or run (a server
# down or answering 5xx, weights or a dependency missing: `ToolUnavailableError`), it did not answer in time, or it
# crashed. A tool that ran and reported a failure of its own (``tool_reported_failure``) answered the call.
ENVIRONMENT_FAULT_CODES = frozenset({"unavailable", "timeout", "crashed"})


class ClassifiedError(BaseModel):
    """One classified fault. `message` is written for the policy: it becomes the observation it learns from."""

    model_config = ConfigDict(frozen=True)

    error_class: ErrorClass
    code: str
    message: str
    tool: str | None = None
    argument: str | None = None

    @property
    def environment_fault(self) -> bool:
        """Whether the fault is the environment's, not the policy's (`ENVIRONMENT_FAULT_CODES`): training leaves an
        episode that met one unscored, evaluation counts it apart."""
        return self.error_class is ErrorClass.TOOL_FAILURE and self.code in ENVIRONMENT_FAULT_CODES

    def __str__(self) -> str:
        return f"[{self.error_class.value}] {self.message}"


class VistaError(Exception):
    """Base of every exception vista raises on purpose."""


class ToolArgumentError(VistaError):
    """Raised by a tool for E4: arguments valid by schema but semantically wrong (a bbox outside the image,
    a series that is not in the chart). The message is shown to the policy, so say what was wrong and what is valid.
    """

    def __init__(self, message: str, *, argument: str | None = None):
        super().__init__(message)
        self.argument = argument


class ToolUnavailableError(VistaError):
    """Raised when a tool cannot run at all: weights absent, an optional dependency missing, a server unreachable.
    The message says which resource is missing and how to provide it."""


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """' Did you mean 'x'?' for the closest candidate, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
