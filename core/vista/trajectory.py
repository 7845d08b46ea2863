"""The trajectory schema: one record per episode, read alike by SFT, GRPO and evaluation.

Messages follow the chat format TRL and transformers' processors take (content parts of type text or image);
image parts hold a reference (the content hash in the run's image store), never pixels.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from .errors import ClassifiedError, ErrorClass

Role = Literal["system", "user", "assistant", "tool"]


class ContentPart(BaseModel):
    type: Literal["text", "image"]
    text: str | None = None
    image: str | None = None  # content hash of the image in the image store

    @classmethod
    def of_text(cls, text: str) -> ContentPart:
        return cls(type="text", text=text)

    @classmethod
    def of_image(cls, ref: str) -> ContentPart:
        return cls(type="image", image=ref)


class Message(BaseModel):
    role: Role
    content: list[ContentPart]

    @property
    def text(self) -> str:
        return "".join(part.text or "" for part in self.content if part.type == "text")

    @property
    def image_refs(self) -> list[str]:
        return [part.image for part in self.content if part.type == "image" and part.image]


class ToolCallRecord(BaseModel):
    """One `<tool_call>` block: what the policy wrote, how it validated, what the tool returned."""

    raw: str
    name: str | None = None
    arguments: dict[str, Any] | None = None
    dialect: str | None = None
    valid: bool = False
    error: ClassifiedError | None = None
    output_text: str | None = None
    output_data: Any = None
    output_images: list[str] = Field(default_factory=list)
    latency_s: float = 0.0


class StepRecord(BaseModel):
    index: int
    action: str
    think: str | None = None
    answer: str | None = None
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    format_errors: list[ClassifiedError] = Field(default_factory=list)
    error_classes: list[ErrorClass] = Field(default_factory=list)
    token_ids: list[int] | None = None
    logprobs: list[float] | None = None


class Trajectory(BaseModel):
    id: str
    task: str
    example_id: str
    messages: list[Message] = Field(default_factory=list)
    steps: list[StepRecord] = Field(default_factory=list)
    final_answer: str | None = None
    ground_truth: Any = None
    correct: bool | None = None
    score: float | None = None
    reward: float | None = None
    reward_components: dict[str, float] = Field(default_factory=dict)
    primary_error: ErrorClass | None = None
    terminated: bool = False
    truncated: bool = False
    metadata: dict[str, Any] = Field(default_factory=dict)

    @property
    def tool_calls(self) -> list[ToolCallRecord]:
        return [call for step in self.steps for call in step.tool_calls]

    @property
    def format_errors(self) -> list[ClassifiedError]:
        return [err for step in self.steps for err in step.format_errors]

    @property
    def environment_faults(self) -> list[ClassifiedError]:
        """The tool calls' errors that were the environment's (`ClassifiedError.environment_fault`: a server down, a
        timeout, a crash), not the policy's: an episode with one says nothing sure about the policy."""
        return [call.error for call in self.tool_calls if call.error is not None and call.error.environment_fault]
