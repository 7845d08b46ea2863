"""vista-tasks: the benchmarks' loaders and official scorers, and offline procedural task generators."""

from __future__ import annotations

from vista import hookimpl


@hookimpl
def register_tasks(register) -> None:
    from .benchmarks import BENCHMARK_TASKS
    from .procedural import PROCEDURAL_TASKS

    for task in (*BENCHMARK_TASKS, *PROCEDURAL_TASKS):
        register(task)
