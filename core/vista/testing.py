"""Helpers for testing plugins: register an in-memory plugin for one test, and restore the registry after.

    from vista.testing import registered_plugin

    def test_my_tool():
        with registered_plugin(my_plugin_module) as registry:
            assert "my_tool" in registry.tools
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from . import plugins


@contextmanager
def registered_plugin(plugin: object, name: str = "test_plugin", *, select: str | None = "none",
                      strict: bool = True) -> Iterator[plugins.Registry]:
    """Load plugins with ``plugin`` added under ``name`` (by default alone with the built-ins) for the duration of
    the block; the process-wide registry is restored afterwards."""
    previous = plugins._registry
    try:
        yield plugins.load_plugins(select, strict=strict, plugins=[(name, plugin)])
    finally:
        plugins._registry = previous
        if previous is not None:
            for listener in plugins._on_load:
                listener(previous)
