"""Tool serving: a FastAPI tool server that keeps models resident and batches calls (`vista serve`), its async
client, remote tools that the environment uses through the ordinary Tool interface, and a Ray Serve mode."""
