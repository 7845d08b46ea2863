"""Admission control of the tool service: how many calls of each tool are admitted at once (a model tool's queue is
short, a light tool's long: `Tool.blocking`), all or none for a batch, and the server's budget of request-body bytes.
A call that does not fit is refused at once (`Overloaded`: 503 with Retry-After), before its body is read."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import contextmanager

from ..errors import VistaError
from ..tool import Tool
from .config import ServeConfig
from .metrics import ServeMetrics


class Overloaded(VistaError):
    def __init__(self, tool: str, retry_after_s: int, message: str | None = None):
        super().__init__(message or f"tool '{tool}' is at capacity; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Admission:
    def __init__(self, tools: Mapping[str, Tool], config: ServeConfig, metrics: ServeMetrics):
        self.config, self.metrics = config, metrics
        self.model_tools = {name for name, tool in tools.items() if model_tool(tool)}
        self._inflight: dict[str, int] = {}
        self.body_bytes = 0  # bytes of request bodies admitted now: being received, or their calls in progress

    def capacity(self, name: str) -> int:
        """Calls of ``name`` admitted at once: `concurrency` + `max_queue` for a model tool, `light_capacity` for a
        light tool (unless the tool's own `concurrency` or `max_queue` is set in `per_tool`)."""
        own = self.config.per_tool.get(name, {})
        if name not in self.model_tools and "concurrency" not in own and "max_queue" not in own:
            return self.config.light_capacity
        return self.config.for_tool(name, "concurrency") + self.config.for_tool(name, "max_queue")

    def room(self, name: str) -> int:
        """How many more calls of ``name`` would be admitted now."""
        return self.capacity(name) - self._inflight.get(name, 0)

    def admit(self, name: str, count: int = 1, batch: int | None = None) -> None:
        """Count ``count`` calls of ``name`` against its queue, all or none; `Overloaded` when they do not fit
        (``batch``: the size of the batch they belong to, for the message)."""
        if count > self.room(name):
            self.metrics.rejected.labels(name).inc(count)
            if batch is None:
                raise Overloaded(name, self.config.retry_after_s)
            raise Overloaded(name, self.config.retry_after_s,
                             f"a batch of {batch} calls does not fit the free places of tool '{name}'; "
                             f"retry after {self.config.retry_after_s} s or split the batch")
        self._inflight[name] = self._inflight.get(name, 0) + count
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    def release(self, name: str, count: int = 1) -> None:
        self._inflight[name] -= count
        self.metrics.queue_depth.labels(name).set(self._inflight[name])

    @contextmanager
    def admitted(self, name: str, count: int = 1, batch: int | None = None):
        self.admit(name, count, batch)
        try:
            yield
        finally:
            self.release(name, count)

    def take_bytes(self, count: int) -> None:
        """Reserve ``count`` bytes of the server's body budget (`max_inflight_bytes`); `Overloaded` when full."""
        if self.body_bytes + count > self.config.max_inflight_bytes:
            raise Overloaded("(server)", self.config.retry_after_s,
                             f"the server is already receiving or working on {self.body_bytes} bytes of requests "
                             f"(limit {self.config.max_inflight_bytes}); retry after {self.config.retry_after_s} s")
        self.body_bytes += count

    def give_bytes(self, count: int) -> None:
        self.body_bytes -= count


def model_tool(tool: Tool) -> bool:
    """Whether ``tool`` is admitted as a model tool: declared ``blocking = True``, or undeclared and batching or
    async, the shapes of model-backed and remote tools (`Tool.blocking`)."""
    if tool.blocking is None:
        return tool.supports_batching or hasattr(tool, "arun")
    return tool.blocking
