"""Loaders and official scoring of the published benchmarks."""

BENCHMARK_TASKS: list = []
