"""Prometheus metrics of the tool server: calls, errors by class, latency, batch sizes, queue depth."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from ..tool import ToolResult

_LATENCY_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class ServeMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.calls = Counter("vista_tool_calls", "tool calls answered", ["tool"], registry=self.registry)
        self.errors = Counter("vista_tool_errors", "tool calls that ended in a classified error",
                              ["tool", "error_class"], registry=self.registry)
        self.latency = Histogram("vista_tool_latency_seconds", "time from request to result", ["tool"],
                                 buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.batch_size = Histogram("vista_tool_batch_size", "calls per run_batch", ["tool"],
                                    buckets=(1, 2, 4, 8, 16, 32, 64), registry=self.registry)
        self.queue_depth = Gauge("vista_tool_queue_depth", "calls admitted and not yet answered", ["tool"],
                                 registry=self.registry)
        self.rejected = Counter("vista_tool_rejected", "calls refused because the queue was full", ["tool"],
                                registry=self.registry)

    def observe(self, tool: str, result: ToolResult, seconds: float) -> None:
        self.calls.labels(tool).inc()
        self.latency.labels(tool).observe(seconds)
        if result.error is not None:
            self.errors.labels(tool, result.error.error_class.value).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
