"""Configuration of the tool server; every field documented once, cross-field checks in `validate`."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ServeConfig:
    host: str = "127.0.0.1"
    """Interface to bind. Loopback by default: exposing tools to a network is an explicit choice."""
    port: int = 8000
    """TCP port (0 picks a free one)."""
    token: str | None = None
    """Bearer token every request must carry (Authorization: Bearer ...); None disables the check."""
    max_body_bytes: int = 32 * 1024 * 1024
    """Largest request body accepted; larger requests get 413, refused from their Content-Length before the body is
    read (a body sent without one is cut off when it passes the limit)."""
    max_inflight_bytes: int = 128 * 1024 * 1024
    """Request bodies the server receives or works on at once, in bytes, across all tools: a body's declared size is
    taken when its first bytes arrive (an idle connection holds none of it), and a request that does not fit gets
    503 + Retry-After. With `max_image_pixels` it bounds the memory requests take."""
    body_timeout_s: float = 10.0
    """Longest a request's body may take to arrive (or the call's deadline, if sooner); slower ones get 408, so
    connections that send headers and then wait hold a queue place only this long."""
    max_json_values: int = 100_000
    """Most JSON values in one request body (counted before parsing); more get 413. Images, being strings, count 1."""
    max_batch_calls: int = 256
    """Most calls in one POST /tools/{name}/batch; more get 413. Each call counts against its tool's queue."""
    max_image_pixels: int = 40_000_000
    """Largest decoded size of one call's images together (sum of width*height); bigger ones (decompression
    bombs) get 413, refused from the image headers before a pixel is decoded."""
    concurrency: int = 4
    """Calls of one tool running at once, each in a worker thread (batched tools: batches at once is 1, this bounds
    waiting batches); a tool declared ``blocking = False`` runs its small calls on the event loop, outside this."""
    max_queue: int = 64
    """Calls of one model tool (`Tool.blocking`: declared True, or undeclared and batching or async) waiting beyond
    `concurrency`; more get 503 with Retry-After, so that callers retry rather than wait out their deadline behind
    a model."""
    light_capacity: int = 4096
    """Calls of one light tool (`Tool.blocking`: declared False, or undeclared and neither batching nor async)
    admitted at once, running or waiting, instead of `concurrency` + `max_queue`, which are sized for model tools: a
    quick tool that declares nothing is served under load rather than refused. A `per_tool` concurrency or
    max_queue puts a light tool under those instead. More get 503 with Retry-After."""
    timeout_s: float = 60.0
    """Per-call time limit; a call over it returns a TOOL_FAILURE result with code 'timeout'."""
    max_batch_size: int = 8
    """Dynamic batching: most calls grouped into one `run_batch` for tools that implement it."""
    max_wait_ms: float = 5.0
    """Dynamic batching: how long a batch may wait to grow to the size of the previous one (whose callers are
    likely on their way back); a call after a batch of one, a lone client's, never waits. Calls that arrive while
    a batch runs form the next one, so the batch size follows the load; 0: never wait."""
    per_tool: dict[str, dict] = field(default_factory=dict)
    """Overrides per tool name of concurrency, max_queue, timeout_s, max_batch_size, max_wait_ms."""
    retry_after_s: int = 1
    """Retry-After hint sent with 503 when a tool's queue (or the server's body budget) is full."""
    workers: int = 1
    """Server processes sharing the port (`vista serve --workers N`), each with its own copy of the tools, queues and
    limits (so N times the capacity) and its own /metrics; for light tools, which one process's event loop
    bounds. Model tools want 1 (each worker would hold the model) or Ray Serve replicas."""
    shutdown_grace_s: float = 5.0
    """On SIGTERM: calls in progress get this long to finish; then they are cancelled (worker processes killed)
    and answered 503, and the process exits, within about this plus 2 s."""

    def validate(self) -> ServeConfig:
        if self.host not in ("127.0.0.1", "localhost", "::1") and not self.token:
            raise ValueError(f"binding to {self.host} exposes the tools to the network: set a token "
                             "(--token / VISTA_SERVE_TOKEN) or bind to 127.0.0.1")
        for name in ("concurrency", "max_queue", "light_capacity", "workers", "max_batch_size", "max_body_bytes",
                     "max_image_pixels", "max_json_values", "max_batch_calls"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.max_inflight_bytes < self.max_body_bytes:
            raise ValueError(f"max_inflight_bytes ({self.max_inflight_bytes}) must be at least max_body_bytes "
                             f"({self.max_body_bytes}), or the largest accepted body could never be received")
        if self.body_timeout_s <= 0:
            raise ValueError(f"body_timeout_s must be > 0, got {self.body_timeout_s}")
        if self.shutdown_grace_s < 0:
            raise ValueError(f"shutdown_grace_s must be >= 0, got {self.shutdown_grace_s}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if self.max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must be >= 0, got {self.max_wait_ms}")
        allowed = {"concurrency", "max_queue", "timeout_s", "max_batch_size", "max_wait_ms"}
        for tool, overrides in self.per_tool.items():
            unknown = set(overrides) - allowed
            if unknown:
                raise ValueError(f"per_tool['{tool}'] has unknown keys {sorted(unknown)}; allowed: {sorted(allowed)}")
            for key, value in overrides.items():
                minimum = 0 if key == "max_wait_ms" else 1e-9 if key == "timeout_s" else 1
                if value < minimum:
                    raise ValueError(f"per_tool['{tool}']['{key}'] must be >= {minimum:g}, got {value}")
        return self

    def for_tool(self, name: str, key: str):
        return self.per_tool.get(name, {}).get(key, getattr(self, key))
