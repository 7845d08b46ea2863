"""The FastAPI tool server behind `vista serve`: tools loaded once and kept resident, dynamic batching, limits.

Endpoints: GET /health (open, no token), GET /tools (schemas), POST /tools/{name}/call, POST /tools/{name}/batch,
GET /metrics; without a token also /docs, /redoc and /openapi.json (with one they are off: a browser cannot send it).

A call's validation error comes back as a classified ToolResult (HTTP 200), exactly as in process, and so does a call
to a tool the server does not have (E1). HTTP errors are for the transport, each a one-line JSON
``{"error": "..."}`` saying what was wrong and what to do: 400 (body not JSON, image not decodable or not an accepted
format), 401 (token), 404 (batch to an unknown tool), 408 (body not received before the call's deadline),
413 (body, batch, JSON or images too large), 422 (body of the wrong shape), 503 + Retry-After (queue or body budget
full, or shutting down).

What the event loop does per request is bounded and small: check the token and Content-Length, take the call's
place in its queue and its bytes in the body budget (refusing at once when either is full), receive the body, then
hand it to a worker thread (`ToolService`), so /health answers whatever the calls carry.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import time
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from starlette.routing import Route

from .admission import Overloaded
from .config import ServeConfig
from .service import ToolService
from .wire import CallRequest, RequestRejected, error_json

_JSON = "application/json"


def _error(status: int, message: str, **headers: str) -> Response:
    return Response(error_json(message), status_code=status, media_type=_JSON, headers=headers)


class _ClientGone(Exception):
    pass


class BearerGuard:
    """ASGI middleware: every path but /health needs ``Authorization: Bearer <token>`` (the scheme in any case,
    RFC 7235)."""

    def __init__(self, app, token: str):
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"] != "/health":
            supplied = b""
            for key, value in scope["headers"]:
                if key == b"authorization":
                    supplied = value
                    break
            scheme, _, credentials = supplied.strip().partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(credentials.strip(), self.token):
                response = _error(401, "missing or wrong bearer token; send 'Authorization: Bearer <token>'",
                                  **{"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class _Budget:
    """The body bytes one request holds in the server's budget, all given back at its end."""

    def __init__(self, service: ToolService):
        self.service, self.held = service, 0

    def take(self, count: int) -> None:
        self.service.admission.take_bytes(count)
        self.held += count

    def give_back(self) -> None:
        self.service.admission.give_bytes(self.held)
        self.held = 0


async def _read_body(receive, declared: int | None, limit: int, budget: _Budget) -> bytearray:
    """The request body, refused (413) as soon as it passes ``limit``. Its declared size is taken from the budget
    when its first bytes arrive (all at once, so that parallel uploads cannot starve one another halfway), the
    bytes of a body without a Content-Length as they arrive; a connection that sends nothing holds nothing."""
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        if chunk:
            if len(body) + len(chunk) > limit:
                raise RequestRejected(f"the request body exceeds the limit of {limit} bytes; send smaller images "
                                      "(or fewer calls per batch)", 413)
            if declared is None:
                budget.take(len(chunk))
            elif not budget.held:
                budget.take(declared)
            body += chunk
        if not message.get("more_body", False):
            return body


async def _disconnected(receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def _answer(work: asyncio.Future, receive, stopping: asyncio.Future | None):
    """Wait for ``work``, unless the client goes away (None) or the server stops answering calls (503); either
    way ``work`` is cancelled, which cancels its calls' scopes and so kills their child processes."""
    watcher = asyncio.ensure_future(_disconnected(receive))
    try:
        await asyncio.wait([work, watcher] + ([stopping] if stopping is not None else []),
                           return_when=asyncio.FIRST_COMPLETED)
    finally:
        watcher.cancel()
        finished = work.done()
        if not finished:
            work.cancel()
    if finished:
        return work.result()
    if stopping is not None and stopping.done():
        return _error(503, "the tool server is shutting down; retry on another server or after its restart",
                      **{"Retry-After": "1"})
    return None


def create_app(service: ToolService) -> FastAPI:
    config = service.config

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        service.start()
        yield
        service.close()

    docs = {} if config.token is None else {"docs_url": None, "redoc_url": None, "openapi_url": None}
    app = FastAPI(title="vista tool server", version="1", lifespan=lifespan, **docs)
    if config.token is not None:
        app.add_middleware(BearerGuard, token=config.token)
    specs = json.dumps(service.specs()).encode()

    @app.get("/health")
    async def health():
        return {"status": "ok", "tools": len(service.tools)}

    @app.get("/tools")
    async def tools():
        return Response(specs, media_type=_JSON)

    async def admitted(request: Request, name: str, batch: bool) -> Response:
        arrival = time.monotonic()
        declared = request.headers.get("content-length")
        try:
            declared = int(declared) if declared is not None else None
        except ValueError:
            return _error(400, f"Content-Length {declared[:40]!r} is not a number")
        if declared is not None and declared > config.max_body_bytes:
            # refused before reading a byte; closing spares the server the upload it would otherwise drain
            return _error(413, f"request body of {declared} bytes exceeds the limit of {config.max_body_bytes}; "
                               "send smaller images (or fewer calls per batch)", Connection="close")
        budget = _Budget(service)
        try:
            service.admission.admit(name)
        except Overloaded as exc:
            return _error(503, str(exc), **{"Retry-After": str(exc.retry_after_s)})
        try:
            deadline = service.deadline(name, arrival)
            body_deadline = min(deadline, arrival + config.body_timeout_s)
            try:
                async with asyncio.timeout(max(body_deadline - time.monotonic(), 0.0)):
                    body = await _read_body(request.receive, declared, config.max_body_bytes, budget)
            except TimeoutError:
                return _error(408, f"the request body did not arrive within "
                                   f"{body_deadline - arrival:g} s (the call's time limit or body_timeout_s); "
                                   "send it faster or in smaller calls")
            if not body.strip():  # a client's mistake, not a call the policy wrote: no E1 result for it
                kind = '{"calls": [...]}' if batch else '{"arguments": {...}}'
                return _error(400, f"the request has no body; POST a JSON object {kind} (GET /openapi.json "
                                   "describes it)")
            holder = [body]
            del body
            if not batch:
                answer = service.call_now(name, holder)  # declared blocking = False: answered on the loop
                if answer is not None:
                    return Response(answer, media_type=_JSON)
            run = service.batch_body if batch else service.call_body
            outcome = await _answer(asyncio.ensure_future(run(name, holder, arrival)), request.receive,
                                    service.stopping)
            if outcome is None:
                return _error(499, "client closed the request")
            return outcome if isinstance(outcome, Response) else Response(outcome, media_type=_JSON)
        except Overloaded as exc:
            return _error(503, str(exc), **{"Retry-After": str(exc.retry_after_s)})
        except RequestRejected as exc:
            return _error(exc.status, str(exc))
        except _ClientGone:
            return _error(499, "client closed the request")
        finally:
            service.admission.release(name)
            budget.give_back()

    async def call_tool(request: Request) -> Response:
        """One call: a ToolResult (classified errors included), or a transport error."""
        name = request.path_params["name"]
        if name not in service.tools:
            return Response(service.unknown_tool(name), media_type=_JSON)  # E1, without reading the body
        return await admitted(request, name, batch=False)

    async def call_batch(request: Request) -> Response:
        """Up to `max_batch_calls` calls of one tool, admitted all or none: ``{"results": [ToolResult, ...]}``."""
        name = request.path_params["name"]
        if name not in service.tools:
            return _error(404, f"there is no tool named '{name[:80]}' on this server; GET /tools lists them")
        return await admitted(request, name, batch=True)

    # plain Starlette routes: FastAPI's request handling around the same handler halved a light tool's requests/s
    # (bench/serve_load.py); the OpenAPI schema describes them below
    app.router.routes.append(Route("/tools/{name}/call", call_tool, methods=["POST"]))
    app.router.routes.append(Route("/tools/{name}/batch", call_batch, methods=["POST"]))
    if config.token is None:
        app.openapi = _schema_with_calls(app, config)

    @app.get("/metrics", response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {}},
                              "description": "Prometheus text exposition format (version 0.0.4)"}})
    async def metrics():
        return PlainTextResponse(service.metrics.render(), media_type="text/plain; version=0.0.4")

    return app


_ERROR_BODY = {"content": {_JSON: {"schema": {"type": "object", "required": ["error"],
                                                "properties": {"error": {"type": "string"}}}}}}
_CALL_ERRORS = {
    "400": {"description": "no body, or a Content-Length that is not a number", **_ERROR_BODY},
    "408": {"description": "the body did not arrive within the call's time limit", **_ERROR_BODY},
    "413": {"description": "the body exceeds max_body_bytes", **_ERROR_BODY},
    "499": {"description": "the client closed the request before the answer", **_ERROR_BODY},
    "503": {"description": "overloaded: retry after the Retry-After header's seconds", **_ERROR_BODY,
            "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}
# what the call endpoints answer besides 200 (a call to an unknown tool is an E1 result, 200; a batch of one, 404)
ERRORS = {"call": _CALL_ERRORS,
          "batch": {**_CALL_ERRORS, "404": {"description": "no tool of that name on this server", **_ERROR_BODY}}}


def _schema_with_calls(app: FastAPI, config: ServeConfig):
    """FastAPI's OpenAPI schema of ``app``, with the two call endpoints, which are plain routes, added."""
    from fastapi.openapi.utils import get_openapi

    call = CallRequest.model_json_schema()
    bodies = {"call": (call, "One call: a ToolResult (classified errors included), or a transport error."),
              "batch": ({"type": "object", "required": ["calls"], "properties": {
                  "calls": {"type": "array", "items": call, "maxItems": config.max_batch_calls}}},
                  "Up to `max_batch_calls` calls of one tool, admitted all or none: {\"results\": [ToolResult, ...]}.")}

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            for kind, (body, summary) in bodies.items():
                schema["paths"][f"/tools/{{name}}/{kind}"] = {"post": {
                    "summary": summary,
                    "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "requestBody": {"required": True, "content": {_JSON: {"schema": body}}},
                    "responses": {**{"200": {"description": "the result(s) as JSON"}}, **ERRORS[kind]}}}
            app.openapi_schema = schema
        return app.openapi_schema

    return openapi


def _uvicorn_server(app: FastAPI, service: ToolService):
    """uvicorn's server, where SIGTERM/SIGINT give the calls in progress `shutdown_grace_s` before they are
    stopped; uvicorn's own graceful timeout (a second later) cancels whatever is left."""
    import uvicorn

    config: ServeConfig = service.config

    class Server(uvicorn.Server):
        def handle_exit(self, sig, frame) -> None:
            first = not self.should_exit
            super().handle_exit(sig, frame)
            stopping = service.stopping
            if first and stopping is not None:
                loop = stopping.get_loop()
                loop.call_soon_threadsafe(loop.call_later, config.shutdown_grace_s, service.stop_calls)

    # uvloop and httptools when installed (vista-core depends on uvicorn[standard]); no access log, which cost
    # about a sixth of a light call's time
    return Server(uvicorn.Config(app, host=config.host, port=config.port, log_level="info", access_log=False,
                                 timeout_graceful_shutdown=config.shutdown_grace_s + 1))


def serve(service: ToolService) -> None:
    """Run the server in the foreground until SIGINT/SIGTERM: then it stops accepting connections, lets calls in
    progress finish for `shutdown_grace_s`, answers the rest 503 (their worker processes killed) and exits, within
    about `shutdown_grace_s` + 2 s. With `workers` > 1, that many processes share the port (see `_serve_workers`)."""
    server = _uvicorn_server(create_app(service), service)
    if service.config.workers == 1:
        server.run()
    else:
        _serve_workers(server, service.config)


def _serve_workers(server, config: ServeConfig) -> None:
    """`workers` copies of ``server``, forked from this process once its tools are built (and before any thread
    starts), accepting on one listening socket; the kernel spreads connections among them. A worker that dies is
    replaced; SIGTERM/SIGINT are passed on to every worker, each of which stops as a single server does."""
    import multiprocessing
    import signal
    import threading

    sock = server.config.bind_socket()  # bound before forking: every worker accepts on it
    fork = multiprocessing.get_context("fork")
    stop = threading.Event()

    def start() -> multiprocessing.Process:
        process = fork.Process(target=server.run, kwargs={"sockets": [sock]}, daemon=False)
        process.start()
        return process

    workers = [start() for _ in range(config.workers)]
    handlers = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.wait(0.5):
            workers = [w if w.is_alive() else start() for w in workers]
    finally:
        for worker in workers:
            if worker.is_alive():
                worker.terminate()  # SIGTERM: the worker's own graceful stop
        for worker in workers:
            worker.join(config.shutdown_grace_s + 3)
            if worker.is_alive():
                worker.kill()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
        sock.close()
