"""The tool server's client, and `RemoteTool`: a Tool whose `arun`/`run` call the server, so the environment and
the episode runner use remote tools exactly like local ones (same schemas, same E1–E5 classes).

    registry = vista.load_plugins("none")
    attach_remote_tools(registry, "http://127.0.0.1:8000")   # every tool the server offers
    env = vista.VistaEnv("chart_bar", registry=registry)

Transient failures (connection refused or reset, timeouts, 429/502/503/504) are retried with exponential backoff,
honouring Retry-After; when retries run out the call raises `ToolUnavailableError`, which the environment turns into a
TOOL_FAILURE observation: the episode goes on.

Calls are pipelined per tool: at most ``max_in_flight`` requests of one tool are on the wire at once, and the calls
made meanwhile wait and travel together, as one POST /tools/{name}/batch of up to ``batch_calls`` calls, when a
request comes back; calls made in the same turn of the event loop (episodes whose turns a batched generation
returned at once) travel together at once. A lone call goes alone, at once: nothing waits for companions. This is
what keeps a rollout with 64 episodes in flight from being limited by its client: httpx managed 530 calls/s one at
a time, 480 with 8 requests in flight and 90 with 64. Each call still gets its own result; should the server refuse
a batch as such (an image it cannot decode, a batch larger than the tool's places), its calls are sent one by one,
so each gets its own answer.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import ConfigDict

from ..errors import ToolUnavailableError
from ..tool import IMAGE_NAME_PATTERN, Tool, ToolArguments, ToolContext, ToolResult
from .wire import encode_images

_RETRY_STATUS = {429, 502, 503, 504}
_TRANSIENT = (httpx.TransportError,)  # connect/read/write errors and timeouts
_IMAGE_NAME = re.compile(IMAGE_NAME_PATTERN)


class _Refused(ToolUnavailableError):
    """The server answered a request with a 4xx: the request itself was at fault, not the server's state."""


class _Lane:
    """The calls of one tool on one event loop: those waiting to be sent, and the requests on the wire."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop  # a later loop may get the same id(): its lane must not inherit this one's state
        self.waiting: list[tuple[dict, asyncio.Future]] = []
        self.in_flight = 0
        self.flush_due = False


class ToolServerClient:
    """Pooled HTTP client for one tool server (async for rollouts, sync for scripts). ``batch_calls``: most calls
    of one tool sent in one request (1: every call its own request, none waiting); ``max_in_flight``: most
    requests of one tool on the wire at once, the calls made meanwhile waiting to go together."""

    def __init__(self, base_url: str, *, token: str | None = None, timeout_s: float = 120.0, retries: int = 3,
                 backoff_s: float = 0.2, max_connections: int = 256, batch_calls: int = 32, max_in_flight: int = 8):
        if batch_calls < 1 or max_in_flight < 1:
            raise ValueError(f"batch_calls and max_in_flight must be >= 1, got {batch_calls} and {max_in_flight}")
        self.base_url = base_url.rstrip("/")
        self.token = token if token is not None else os.environ.get("VISTA_SERVE_TOKEN")
        self.retries, self.backoff_s = retries, backoff_s
        self.batch_calls, self.max_in_flight = batch_calls, max_in_flight
        self._timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self._limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._async: dict[int, httpx.AsyncClient] = {}
        self._sync: httpx.Client | None = None
        self._lanes: dict[tuple[int, str], _Lane] = {}
        self._senders: set[asyncio.Task] = set()

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def _aclient(self) -> httpx.AsyncClient:
        loop_id = id(asyncio.get_running_loop())  # an AsyncClient belongs to one event loop
        if loop_id not in self._async:
            self._async[loop_id] = httpx.AsyncClient(base_url=self.base_url, headers=self.headers,
                                                     timeout=self._timeout, limits=self._limits)
        return self._async[loop_id]

    def _client(self) -> httpx.Client:
        if self._sync is None:
            self._sync = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=self._timeout,
                                      limits=self._limits)
        return self._sync

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        if response is not None and response.headers.get("retry-after", "").isdigit():
            return float(response.headers["retry-after"])
        return self.backoff_s * (2 ** attempt)

    def _outcome(self, response: httpx.Response) -> Any:
        if response.status_code == 401:
            raise ToolUnavailableError(f"tool server {self.base_url} refused the token; set VISTA_SERVE_TOKEN")
        if response.status_code >= 400:
            detail = response.json().get("error", response.text) if response.headers.get(
                "content-type", "").startswith("application/json") else response.text
            kind = _Refused if response.status_code < 500 else ToolUnavailableError
            raise kind(f"tool server {self.base_url} answered {response.status_code}: {detail}")
        return response.json()

    def _give_up(self, path: str, last: Exception | httpx.Response | None) -> ToolUnavailableError:
        what = f"HTTP {last.status_code}" if isinstance(last, httpx.Response) else f"{type(last).__name__}: {last}"
        return ToolUnavailableError(f"tool server {self.base_url}{path} failed after {self.retries + 1} attempts "
                                    f"({what}); is `vista serve` running?")

    async def arequest(self, method: str, path: str, json: Any = None) -> Any:
        last: Exception | httpx.Response | None = None
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = await self._aclient().request(method, path, json=json)
                if response.status_code not in _RETRY_STATUS:
                    return self._outcome(response)
                last = response
            except _TRANSIENT as exc:
                last = exc
            if attempt < self.retries:
                await asyncio.sleep(self._delay(attempt, response))
        raise self._give_up(path, last)

    def request(self, method: str, path: str, json: Any = None) -> Any:
        last: Exception | httpx.Response | None = None
        for attempt in range(self.retries + 1):
            response = None
            try:
                response = self._client().request(method, path, json=json)
                if response.status_code not in _RETRY_STATUS:
                    return self._outcome(response)
                last = response
            except _TRANSIENT as exc:
                last = exc
            if attempt < self.retries:
                time.sleep(self._delay(attempt, response))
        raise self._give_up(path, last)

    def list_tools(self) -> list[dict]:
        return self.request("GET", "/tools")

    async def acall(self, name: str, arguments: Mapping[str, Any], images: Mapping[str, Any]) -> ToolResult:
        payload = {"arguments": dict(arguments), "images": encode_images(images)}
        if self.batch_calls == 1:
            return _result(await self.arequest("POST", f"/tools/{name}/call", payload))
        loop = asyncio.get_running_loop()
        lane = self._lanes.get((id(loop), name))
        if lane is None or lane.loop is not loop:
            lane = self._lanes[id(loop), name] = _Lane(loop)
        future = loop.create_future()
        lane.waiting.append((payload, future))
        if not lane.flush_due:  # the other calls made in this turn of the loop join before anything is sent
            lane.flush_due = True
            loop.call_soon(self._flush, lane, name)
        return _result(await future)

    def _flush(self, lane: _Lane, name: str) -> None:
        lane.flush_due = False
        while lane.waiting and lane.in_flight < self.max_in_flight:
            calls, lane.waiting = lane.waiting[:self.batch_calls], lane.waiting[self.batch_calls:]
            lane.in_flight += 1
            task = asyncio.ensure_future(self._deliver(name, calls))
            self._senders.add(task)  # held until done: the loop keeps only weak references to tasks
            task.add_done_callback(lambda done: self._delivered(done, lane, name))

    def _delivered(self, task: asyncio.Task, lane: _Lane, name: str) -> None:
        self._senders.discard(task)
        lane.in_flight -= 1
        self._flush(lane, name)  # what waited for this request goes now

    async def _deliver(self, name: str, calls: list[tuple[dict, asyncio.Future]]) -> None:
        try:
            if len(calls) == 1:
                outcomes = [await self.arequest("POST", f"/tools/{name}/call", calls[0][0])]
            else:
                try:
                    outcomes = (await self.arequest("POST", f"/tools/{name}/batch",
                                                    {"calls": [payload for payload, _ in calls]}))["results"]
                except _Refused:  # the batch as such was refused: each call on its own gets its own answer
                    outcomes = await asyncio.gather(*(self.arequest("POST", f"/tools/{name}/call", payload)
                                                      for payload, _ in calls), return_exceptions=True)
        except asyncio.CancelledError:
            for _, future in calls:
                future.cancel()
            raise
        except Exception as exc:  # the server is unreachable: every caller hears it
            outcomes = [exc] * len(calls)
        for (_, future), outcome in zip(calls, outcomes):
            if future.done():
                continue
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def call(self, name: str, arguments: Mapping[str, Any], images: Mapping[str, Any]) -> ToolResult:
        payload = {"arguments": dict(arguments), "images": encode_images(images)}
        return _result(self.request("POST", f"/tools/{name}/call", payload))

    async def aclose(self) -> None:
        for client in self._async.values():
            await client.aclose()
        self._async.clear()


def _result(data: dict) -> ToolResult:
    result = ToolResult.model_validate(data)
    result.image_names = []  # names are the server's; the local context names returned images itself
    return result


class RemoteArguments(ToolArguments):
    """Arguments of a remote tool: already validated against the server's schema, carried as given."""

    model_config = ConfigDict(extra="allow")


class RemoteTool(Tool):
    """A proxy for a tool on a server: same name, family, description and schemas as there."""

    def __init__(self, spec: Mapping[str, Any], client: ToolServerClient):
        self.name = spec["name"]
        self.family = spec["family"]
        self.description = spec["description"]
        self._schema = spec["schema"]
        self._output_schema = spec.get("output_schema")
        self._batching = bool(spec.get("batching"))
        self.task_argument = spec.get("task_argument")
        self.client = client

    def argument_schema(self) -> dict:
        return self._schema

    def output_schema(self) -> dict | None:
        return self._output_schema

    @property
    def supports_batching(self) -> bool:
        return self._batching

    def parse_arguments(self, arguments: dict[str, Any]) -> RemoteArguments:
        return RemoteArguments(**arguments)

    def _images(self, arguments: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
        """Only the images the call names, anywhere in its arguments (or an image argument's default), travel."""
        wanted = set(_image_names(arguments))
        for prop in self._schema.get("properties", {}).values():
            default = prop.get("default")
            if isinstance(default, str) and _IMAGE_NAME.match(default):
                wanted.add(default)
        available = ctx.images()
        return {name: available[name] for name in wanted if name in available}

    async def arun(self, args: RemoteArguments, ctx: ToolContext) -> ToolResult:
        arguments = args.model_dump()
        return await self.client.acall(self.name, arguments, self._images(arguments, ctx))

    def run(self, args: RemoteArguments, ctx: ToolContext) -> ToolResult:
        arguments = args.model_dump()
        return self.client.call(self.name, arguments, self._images(arguments, ctx))


def _image_names(value: Any):
    if isinstance(value, str) and _IMAGE_NAME.match(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _image_names(item)
    elif isinstance(value, list):
        for item in value:
            yield from _image_names(item)


def remote_tools(base_url: str, **client_options: Any) -> dict[str, RemoteTool]:
    client = ToolServerClient(base_url, **client_options)
    return {spec["name"]: RemoteTool(spec, client) for spec in client.list_tools()}


def attach_remote_tools(registry, base_url: str, names: list[str] | None = None, **client_options: Any) -> list[str]:
    """Put the server's tools (all, or ``names``) into ``registry`` in place of local ones; returns their names."""
    tools = remote_tools(base_url, **client_options)
    chosen = names or sorted(tools)
    for name in chosen:
        registry.tools[name] = tools[name]
        registry.owners[("tool", name)] = f"remote:{base_url}"
    return chosen
