"""Tool-server load test on loopback (bounded in requests and time).

1. A light tool (`calculator`-like arithmetic, in process on the server): requests/s and p50/p99 latency at 1, 32 and
   256 concurrent clients.
2. A model-backed tool (a tiny real ViT image classifier from transformers, random weights): throughput at 32
   concurrent clients with dynamic batching vs the same tool without `run_batch`. Prints the ratio.

    python bench/serve_load.py [--requests 1024]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "tests"))

import vista  # noqa: E402
from pydantic import Field  # noqa: E402
from serving import free_port, wait_healthy  # noqa: E402
from vista.serve.client import ToolServerClient  # noqa: E402
from vista.serve.config import ServeConfig  # noqa: E402
from vista.serve.service import ToolService  # noqa: E402


class AddArgs(vista.ToolArguments):
    a: float = Field(description="first number")
    b: float = Field(description="second number")


class Add(vista.Tool):
    name = "add"
    family = "bench"
    description = "adds two numbers"
    Arguments = AddArgs

    def run(self, args, ctx):
        return vista.ToolResult(text=str(args.a + args.b), data={"sum": args.a + args.b})


class Classify(vista.Tool):
    """A real transformers ViT (tiny config, random weights) classifying the episode image."""

    name = "classify"
    family = "bench"
    description = "classifies the image"
    Arguments = vista.ToolArguments

    def __init__(self):
        import torch
        from transformers import ViTConfig, ViTForImageClassification

        torch.manual_seed(0)
        torch.set_num_threads(2)  # both variants get the same intra-op threads; only batching differs
        self.torch = torch
        self.model = ViTForImageClassification(ViTConfig(
            image_size=224, patch_size=16, hidden_size=192, num_hidden_layers=6, num_attention_heads=3,
            intermediate_size=768, num_labels=10)).eval()

    def _pixels(self, images):
        import numpy as np

        arrays = [np.asarray(img.convert("RGB").resize((224, 224)), dtype="float32") / 255.0 for img in images]
        return self.torch.tensor(np.stack(arrays)).permute(0, 3, 1, 2)

    def run_batch(self, batch):
        with self.torch.no_grad():
            logits = self.model(pixel_values=self._pixels([ctx.image() for _, ctx in batch])).logits
        return [vista.ToolResult(text=f"class {int(row.argmax())}", data={"label": int(row.argmax())})
                for row in logits]

    def run(self, args, ctx):
        return self.run_batch([(args, ctx)])[0]


class ClassifyUnbatched(Classify):
    name = "classify_unbatched"
    run_batch = vista.Tool.run_batch  # the same model, one forward pass per call

    def run(self, args, ctx):
        return Classify.run_batch(self, [(args, ctx)])[0]


async def load(client: ToolServerClient, tool: str, arguments: dict, images: dict, concurrency: int,
               requests: int, deadline_s: float) -> dict:
    latencies: list[float] = []
    remaining = iter(range(requests))
    stop_at = time.perf_counter() + deadline_s

    async def worker():
        for _ in remaining:
            if time.perf_counter() > stop_at:
                return
            start = time.perf_counter()
            result = await client.acall(tool, arguments, images)
            if not result.ok:
                raise RuntimeError(result.error)
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    latencies.sort()
    return {"concurrency": concurrency, "requests": len(latencies), "requests_per_s": round(len(latencies) / wall, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] * 1000, 2)}


def serve_forever(port: int) -> None:
    from vista.serve.server import serve

    tools = {"add": Add(), "classify": Classify(), "classify_unbatched": ClassifyUnbatched()}
    serve(ToolService(tools, ServeConfig(port=port, concurrency=32, max_queue=512, max_batch_size=32, max_wait_ms=10,
                                         per_tool={"classify_unbatched": {"concurrency": 1}})))


@contextmanager
def server_subprocess():
    """The server in its own process, as in production: the load generator does not share its GIL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, 120)
        yield url
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=1024)
    parser.add_argument("--deadline-s", type=float, default=60.0)
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve_forever(args.serve)
    report: dict = {"light_tool": [], "model_tool_32_clients": {}}
    image = Image.new("RGB", (320, 240), "gray")
    with server_subprocess() as url:
        client = ToolServerClient(url, max_connections=256)

        async def run_all():
            for concurrency in (1, 32, 256):
                report["light_tool"].append(await load(client, "add", {"a": 1, "b": 2}, {}, concurrency,
                                                       args.requests, args.deadline_s))
            for tool in ("classify", "classify_unbatched"):
                report["model_tool_32_clients"][tool] = await load(
                    client, tool, {}, {"image_0": image}, 32, min(args.requests, 256), args.deadline_s)
            await client.aclose()

        asyncio.run(run_all())
    batched = report["model_tool_32_clients"]["classify"]["requests_per_s"]
    unbatched = report["model_tool_32_clients"]["classify_unbatched"]["requests_per_s"]
    report["batched_over_unbatched_throughput"] = round(batched / unbatched, 2)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
