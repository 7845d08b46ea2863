"""`vista serve`: the tools over HTTP (or Ray Serve), checked before any model loads."""

from __future__ import annotations

import argparse

from ..errors import VistaError
from ..plugins import Registry
from .base import command


def _serve_arguments(parser: argparse.ArgumentParser) -> None:
    from ..serve.config import ServeConfig

    default = ServeConfig()  # each flag's default is the field's, documented there once
    mib = 2**20
    parser.add_argument("--tools", help="comma list of tools to serve (default: every tool of the selected plugins)")
    parser.add_argument("--host", default=default.host, help=f"interface to bind (default {default.host})")
    parser.add_argument("--port", type=int, default=default.port)
    parser.add_argument("--token", default=None, help="require this bearer token (default: $VISTA_SERVE_TOKEN)")
    parser.add_argument("--concurrency", type=int, default=default.concurrency, help="calls of one tool at once")
    parser.add_argument("--max-queue", type=int, default=default.max_queue,
                        help="waiting calls per model tool before 503")
    parser.add_argument("--light-capacity", type=int, default=default.light_capacity,
                        help="calls at once of a light tool (not a model tool: see Tool.blocking) before 503")
    parser.add_argument("--workers", type=int, default=default.workers,
                        help="server processes sharing the port, each with its own tools (for light tools)")
    parser.add_argument("--timeout", type=float, default=default.timeout_s, help="per-call time limit in seconds")
    parser.add_argument("--max-batch-size", type=int, default=default.max_batch_size,
                        help="dynamic batching: most calls in one batch")
    parser.add_argument("--max-wait-ms", type=float, default=default.max_wait_ms,
                        help="dynamic batching: longest wait for a batch to fill")
    parser.add_argument("--max-body-mb", type=float, default=default.max_body_bytes / mib,
                        help="largest request body (MiB), refused with 413 before it is read")
    parser.add_argument("--max-inflight-mb", type=float, default=default.max_inflight_bytes / mib,
                        help="request bodies held at once, server-wide (MiB); over it: 503 + Retry-After")
    parser.add_argument("--max-batch-calls", type=int, default=default.max_batch_calls,
                        help="most calls in one POST /tools/<name>/batch")
    parser.add_argument("--max-json-values", type=int, default=default.max_json_values,
                        help="most JSON values in one body, counted before parsing")
    parser.add_argument("--body-timeout", type=float, default=default.body_timeout_s,
                        help="seconds a request body may take to arrive (or the call's limit, if sooner); then 408")
    parser.add_argument("--shutdown-grace", type=float, default=default.shutdown_grace_s,
                        help="seconds calls in flight get to finish after SIGTERM; the rest are answered 503")
    parser.add_argument("--ray", action="store_true", help="deploy with Ray Serve (each tool a deployment)")
    parser.add_argument("--replicas", type=int, default=1, help="Ray Serve: replicas per tool")
    parser.add_argument("--num-gpus", type=float, default=0.0, help="Ray Serve: GPUs per replica of batching tools")
    parser.add_argument("--verbose", action="store_true", help="Ray Serve: the replicas' logs and Ray's dashboard")


def _check_port_free(host: str, port: int) -> None:
    import socket

    if not port:
        return
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no conflict
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise VistaError(f"cannot listen on {host}:{port} ({exc.strerror}); pick another with --port, or "
                             "--port 0 for any free one") from None


@command("serve", "serve tools over HTTP: models resident, dynamic batching, limits, metrics", _serve_arguments)
def _serve(args: argparse.Namespace, registry: Registry) -> int:
    import os

    from ..serve.config import ServeConfig

    _check_port_free(args.host, args.port)  # before any model loads: a busy port is one line, at once
    names = [n.strip() for n in args.tools.split(",")] if args.tools else sorted(registry.tools)
    tools = {name: registry.tool(name) for name in names}
    config = ServeConfig(host=args.host, port=args.port, token=args.token or os.environ.get("VISTA_SERVE_TOKEN"),
                         concurrency=args.concurrency, max_queue=args.max_queue,
                         light_capacity=args.light_capacity, workers=args.workers, timeout_s=args.timeout,
                         max_batch_size=args.max_batch_size, max_wait_ms=args.max_wait_ms,
                         max_body_bytes=round(args.max_body_mb * 2**20),
                         max_inflight_bytes=round(args.max_inflight_mb * 2**20),
                         max_batch_calls=args.max_batch_calls, max_json_values=args.max_json_values,
                         body_timeout_s=args.body_timeout, shutdown_grace_s=args.shutdown_grace).validate()
    if args.ray:
        if args.workers != 1:
            raise VistaError("--workers is for the plain server; with --ray, scale with --replicas")
        from ..serve.ray_app import serve_with_ray

        serve_with_ray(names, plugins=args.plugins, config=config, replicas=args.replicas, num_gpus=args.num_gpus,
                       verbose=args.verbose)
        return 0
    from ..serve.server import serve
    from ..serve.service import ToolService

    serve(ToolService(tools, config))
    return 0
