"""Where a model-backed tool's weights come from: `vista.weights.resolve_weights`, with one more refusal turned into
the same "which weights, how to get them" error."""

from __future__ import annotations

import os

from vista import ToolUnavailableError
from vista.weights import resolve_weights


def weights_source(tool: str, setting: str | None, *, env_var: str, default: str | None, what: str) -> str:
    try:
        return resolve_weights(tool, setting, env_var=env_var, default=default, what=what)
    except ValueError as exc:
        # huggingface_hub refuses a missing path that cannot be a hub id (e.g. '/models/absent') with a ValueError.
        source = setting or os.environ.get(env_var) or default
        raise ToolUnavailableError(
            f"tool '{tool}': {what} weights '{source}' are not a local directory and not a Hugging Face hub id; "
            f"set {env_var} (or weights=...) to a folder saved with save_pretrained(), or to a hub id in the local "
            f"cache" + (f" (default {default})" if default else "")) from exc
