"""Running a real tool server on 127.0.0.1 for tests: in a thread, or in a subprocess that can be killed."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn
from vista.serve.server import create_app
from vista.serve.service import ToolService

HERE = Path(__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, timeout_s: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Return once ``url``'s /health answers 200; fail at once if ``process`` (the server's) has exited, with what it
    wrote to stderr, and after ``timeout_s`` otherwise."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if process is not None and process.poll() is not None:
            stderr = process.stderr.read() if process.stderr is not None else ""
            raise AssertionError(f"the server for {url} exited ({process.returncode}) before it was healthy: {stderr}")
        time.sleep(0.1)
    raise TimeoutError(f"tool server at {url} did not become healthy within {timeout_s} s")


@contextmanager
def server_in_thread(service: ToolService):
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


SERVER_SCRIPT = """
import sys
sys.path.insert(0, {here!r})
import {module} as plugin
from vista.testing import registered_plugin
from vista.serve.config import ServeConfig
from vista.serve.server import serve
from vista.serve.service import ToolService
with registered_plugin(plugin, {module!r}) as registry:
    serve(ToolService(registry.tools, ServeConfig(port={port}{config})))
"""


class ServerProcess:
    """`serve` on one plugin's tools (the module ``module`` in the folder ``here``; the sample plugin by default), in
    a process of its own on 127.0.0.1, which can be killed and started again on the same port. ``config``: further
    ServeConfig fields, as Python keyword arguments ("workers=2")."""

    def __init__(self, config: str = "", *, here: Path = HERE, module: str = "sample_plugin"):
        self.port, self.proc = free_port(), None
        self.url = f"http://127.0.0.1:{self.port}"
        self.script = SERVER_SCRIPT.format(here=str(here), module=module, port=self.port,
                                           config=f", {config}" if config else "")

    def start(self) -> None:
        self.proc = subprocess.Popen([sys.executable, "-c", self.script], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_healthy(self.url, 60, self.proc)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=30)


@contextmanager
def server_process(config: str = "", **plugin):
    """A started `ServerProcess` for the block: yields its URL and process, kills it after."""
    server = ServerProcess(config, **plugin)
    try:
        server.start()
        yield server.url, server.proc
    finally:
        if server.proc is not None:
            server.kill()
