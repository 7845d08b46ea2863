"""The Tool contract: a typed argument model (its JSON schema is what the policy sees), an output schema, `run`."""

from __future__ import annotations

import functools
import threading
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from PIL import Image
from pydantic import BaseModel, ConfigDict, Field

from .errors import ClassifiedError, ToolArgumentError
from .image_field import PILImage
from .images import ImageLike, open_image

IMAGE_NAME_PATTERN = r"^image_[0-9]+$"


def ImageName(description: str = "which image to use: 'image_0' is the question's image; "
              "images that tools return are added as 'image_1', 'image_2', ...") -> Any:
    """A field for an argument that names an episode image (validated as E3 by pattern, as E4 by existence)."""
    return Field("image_0", pattern=IMAGE_NAME_PATTERN, description=description)


class ToolArguments(BaseModel):
    """Base of every argument model: unknown argument names are rejected (E2), so the schema is closed."""

    model_config = ConfigDict(extra="forbid")


class ToolContext:
    """What a tool may touch besides its arguments: the episode's images by name, never a path the policy wrote.

    Images a tool returns are added under the next free name, so a later call can refer to a crop as 'image_1'.
    """

    def __init__(self, images: Sequence[ImageLike] | Mapping[str, ImageLike] = (), metadata: dict | None = None):
        if isinstance(images, Mapping):
            self._images = {name: open_image(img) for name, img in images.items()}
        else:
            self._images = {f"image_{i}": open_image(img) for i, img in enumerate(images)}
        self.metadata = dict(metadata or {})
        self._lock = threading.Lock()  # concurrent calls of one episode may add images at once

    @property
    def image_names(self) -> list[str]:
        return list(self._images)

    def image(self, name: str = "image_0") -> Image.Image:
        try:
            return self._images[name]
        except KeyError:
            available = ", ".join(self._images) or "none"
            raise ToolArgumentError(
                f"there is no image named '{name}' in this episode; available images: {available}",
                argument="image",
            ) from None

    def add_image(self, image: Image.Image) -> str:
        with self._lock:
            index = len(self._images)
            while f"image_{index}" in self._images:  # a context built from a subset of names may have gaps
                index += 1
            name = f"image_{index}"
            self._images[name] = image
        return name

    def images(self) -> dict[str, Image.Image]:
        return dict(self._images)


class ToolResult(BaseModel):
    """What a tool returns. `text` is what the policy reads, `data` the structured output (checked against the
    tool's output schema, E5 when it does not conform), `images` new pictures such as a zoomed crop."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    tool: str = ""
    ok: bool = True
    text: str = ""
    data: Any = None
    images: list[PILImage] = Field(default_factory=list)
    image_names: list[str] = Field(default_factory=list)
    error: ClassifiedError | None = None
    latency_s: float = 0.0

    @classmethod
    def failure(cls, tool: str, error: ClassifiedError, latency_s: float = 0.0) -> ToolResult:
        return cls(tool=tool, ok=False, text=error.message, error=error, latency_s=latency_s)


class Tool:
    """Base class of every tool. Subclasses set the class attributes and implement `run`.

    - `name`: unique across all plugins, snake_case (`chart_to_table`).
    - `family`: perception, chart, diagram, math, or a third party's own.
    - `description`: written for the policy; goes into the system prompt with the argument schema.
    - `Arguments`: a `ToolArguments` subclass; its JSON schema is shown to the policy and validates every call.
    - `Output`: optional pydantic model of `ToolResult.data`; its schema is the output schema (E5 on violation).
    - `task_argument`: the argument that the paper's dialect key `"task"` fills (`{"tool": .., "task": "read_table"}`).
    - `examples`: argument sets valid on any image (`check_tool` runs them; docs show them).
    - `blocking`: whether a call may keep its caller waiting for long (a model's forward pass, a solver, a request
      to another server); the tool server admits calls by it (`vista.serve.config.ServeConfig` sizes each kind):
      - ``True``, a model tool: `concurrency` calls run at once and `max_queue` more wait; beyond that a call is
        refused at once (503 + Retry-After), so that its caller retries instead of waiting out its deadline behind
        a model.
      - ``False``, a light tool that returns in microseconds and never waits (arithmetic, a lookup): the server
        runs its calls on its event loop, with no thread hop, and admits `light_capacity` at once. A promise: one
        slow call there stalls every other call of the server.
      - ``None``, the default (not declared): the tool's shape decides. A tool that batches (`run_batch`) or awaits
        (`arun`) is a model tool, these being the shapes of model-backed and remote tools. Any other is admitted as
        a light tool but runs in a worker thread, `concurrency` at a time: nothing says it is slow, so it is not
        refused like a model, and nothing promises it is quick, so it never runs on the event loop. A quick tool
        that has never heard of `blocking` is thus served under load; a model-backed tool that neither batches
        nor awaits declares ``True``.
    A tool raises `ToolArgumentError` for semantically wrong arguments (E4) and `ToolUnavailableError` when its
    weights or dependencies are missing. Model-backed tools load weights lazily, once per process.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    description: ClassVar[str] = ""
    Arguments: ClassVar[type[ToolArguments]] = ToolArguments
    Output: ClassVar[type[BaseModel] | None] = None
    task_argument: ClassVar[str | None] = None
    examples: ClassVar[list[dict[str, Any]]] = []  # argument sets that run on any image: for checkers and docs
    blocking: ClassVar[bool | None] = None

    def run(self, args: ToolArguments, ctx: ToolContext) -> ToolResult:
        raise NotImplementedError(f"tool '{self.name}' does not implement run()")

    # Tools that wait on I/O (remote servers) may also define `async def arun(self, args, ctx) -> ToolResult`;
    # the episode runner awaits it instead of spending a worker thread.

    def run_batch(self, batch: Sequence[tuple[ToolArguments, ToolContext]]) -> list[ToolResult]:
        """Run many calls at once. Model-backed tools override this to batch the forward pass."""
        return [self.run(args, ctx) for args, ctx in batch]

    @property
    def supports_batching(self) -> bool:
        return type(self).run_batch is not Tool.run_batch

    def argument_schema(self) -> dict:
        return _schema_of(type(self).Arguments)

    def parse_arguments(self, arguments: dict[str, Any]) -> ToolArguments:
        """Typed arguments from a dict that already passed the JSON schema (pydantic validators may still refuse)."""
        return type(self).Arguments.model_validate(arguments)

    def output_schema(self) -> dict | None:
        return _schema_of(type(self).Output) if type(self).Output is not None else None

    def spec(self) -> dict:
        """The function description the policy sees (OpenAI/Qwen function-calling shape)."""
        return {"name": self.name, "description": self.description, "parameters": self.argument_schema()}

    def __repr__(self) -> str:
        return f"<Tool {self.name} ({self.family})>"


@functools.cache
def _schema_of(model: type[BaseModel]) -> dict:
    return model.model_json_schema()
