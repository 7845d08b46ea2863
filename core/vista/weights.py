"""Model weights for model-backed tools: where they come from, and loading them once per process.

A tool names its weights by a setting (constructor argument), an environment variable, or a default hub id.
The machines may be offline, so a hub id counts as available only when it is already in the local Hugging Face
cache; anything else raises `ToolUnavailableError` saying which weights are missing and how to provide them.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, TypeVar

from .errors import ToolUnavailableError

T = TypeVar("T")
_loaded: dict[Hashable, Any] = {}
_locks: dict[Hashable, threading.Lock] = {}
_guard = threading.Lock()


def resolve_weights(tool: str, setting: str | os.PathLike | None, *, env_var: str,
                    default: str | None = None, what: str = "model") -> str:
    """Return a local directory, or a hub id present in the local cache, for ``tool``'s weights."""
    source = str(setting) if setting else os.environ.get(env_var) or default
    if not source:
        raise ToolUnavailableError(
            f"tool '{tool}' needs {what} weights and none are configured; set {env_var} to a local directory "
            f"(or a Hugging Face hub id already in the local cache), or pass weights=... to the tool")
    if Path(source).expanduser().exists():
        return str(Path(source).expanduser())
    if _in_hub_cache(source):
        return source
    raise ToolUnavailableError(
        f"tool '{tool}': {what} weights '{source}' are neither a local directory nor in the Hugging Face cache, and "
        f"this machine cannot download them. On a connected machine run `huggingface-cli download {source}` and copy "
        f"the cache (~/.cache/huggingface), or save the model with save_pretrained() and set {env_var}=/that/dir")


def _in_hub_cache(repo_id: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    for filename in ("config.json", "model_index.json", "preprocessor_config.json"):
        try:
            hit = try_to_load_from_cache(repo_id, filename)
        except Exception:  # not a valid hub id (a local path that does not exist): not in the cache either
            return False
        if isinstance(hit, str):
            return True
    return False


def load_once(key: Hashable, loader: Callable[[], T]) -> T:
    """Call ``loader`` the first time ``key`` is asked for and keep the result for the life of the process.
    Concurrent first calls for one key wait for a single load instead of loading twice."""
    if key in _loaded:
        return _loaded[key]
    with _guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        if key not in _loaded:
            _loaded[key] = loader()
        return _loaded[key]


def loaded_keys() -> list[Hashable]:
    return list(_loaded)
