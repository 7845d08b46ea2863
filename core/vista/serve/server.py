"""The FastAPI tool server behind `vista serve`: tools loaded once and kept resident, dynamic batching, limits.

Endpoints: GET /health, GET /tools (schemas), POST /tools/{name}/call, POST /tools/{name}/batch, GET /metrics.
A call's validation error comes back as a classified ToolResult (HTTP 200), exactly as in process; HTTP errors are
for the transport: 401 (token), 404 (no such route), 413 (body or image too large), 400 (undecodable image),
503 + Retry-After (queue full).
"""

from __future__ import annotations

import asyncio
import hmac
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .config import ServeConfig
from .service import Overloaded, ToolService
from .wire import BatchRequest, CallRequest, ImageRejected, decode_images


def _error(status: int, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def create_app(service: ToolService) -> FastAPI:
    config = service.config

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()

    app = FastAPI(title="vista tool server", version="1", lifespan=lifespan)

    @app.middleware("http")
    async def guard(request: Request, call_next):
        if config.token is not None and request.url.path != "/health":
            supplied = request.headers.get("authorization", "")
            if not hmac.compare_digest(supplied.encode(), f"Bearer {config.token}".encode()):
                return _error(401, "missing or wrong bearer token; send 'Authorization: Bearer <token>'")
        declared = request.headers.get("content-length")
        if declared is not None and int(declared) > config.max_body_bytes:
            return _error(413, f"request body of {declared} bytes exceeds the limit of {config.max_body_bytes}")
        if request.method == "POST":
            body = b""
            async for chunk in request.stream():  # enforce the limit on what arrives, whatever the header said
                body += chunk
                if len(body) > config.max_body_bytes:
                    return _error(413, f"request body exceeds the limit of {config.max_body_bytes} bytes")
            request._body = body
        return await call_next(request)

    @app.get("/health")
    async def health():
        return {"status": "ok", "tools": len(service.tools)}

    @app.get("/tools")
    async def tools():
        return service.specs()

    async def one(name: str, call: CallRequest) -> dict:
        loop = asyncio.get_running_loop()
        # decoding and PNG-encoding images is CPU work: off the event loop, so /health and other calls stay live
        images = await loop.run_in_executor(service.pool, decode_images, call.images, config.max_image_pixels)
        result = await service.call(name, call.arguments, images)
        return await loop.run_in_executor(service.pool, lambda: result.model_dump(mode="json"))

    @app.post("/tools/{name}/call")
    async def call_tool(name: str, call: CallRequest):
        try:
            return await one(name, call)
        except Overloaded as exc:
            return _error(503, str(exc), **{"Retry-After": str(exc.retry_after_s)})
        except ImageRejected as exc:
            return _error(exc.status, str(exc))

    @app.post("/tools/{name}/batch")
    async def call_batch(name: str, batch: BatchRequest):
        if name in service.tools and len(batch.calls) > service.room(name):
            # admit a batch whole or not at all, so that no admitted half runs for a caller who got 503
            return _error(503, f"a batch of {len(batch.calls)} calls does not fit the {service.room(name)} free "
                               f"places of tool '{name}'; retry later or split the batch",
                          **{"Retry-After": str(config.retry_after_s)})
        try:
            results = await asyncio.gather(*(one(name, call) for call in batch.calls))
        except Overloaded as exc:
            return _error(503, str(exc), **{"Retry-After": str(exc.retry_after_s)})
        except ImageRejected as exc:
            return _error(exc.status, str(exc))
        return {"results": results}

    @app.get("/metrics")
    async def metrics():
        return Response(service.metrics.render(), media_type="text/plain; version=0.0.4")

    return app


def serve(service: ToolService) -> None:
    """Run the server in the foreground until interrupted."""
    import uvicorn

    config: ServeConfig = service.config
    uvicorn.run(create_app(service), host=config.host, port=config.port, log_level="info")
