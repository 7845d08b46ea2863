"""The trajectory log of a run: append-only JSONL, images stored once by content hash, safe to resume.

    run_dir/trajectories.jsonl   one Trajectory per line, written whole and flushed (fsync) before the next
    run_dir/images/<sha256>.png  every image a trajectory refers to, written once

A crash can at worst leave a partial last line; opening the log repairs it (the partial line is moved to
``trajectories.jsonl.partial``), so every finished episode survives and a resumed run skips exactly those.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from PIL import Image
from pydantic import BaseModel

from .images import ImageStore, StorageError
from .protocol import replace_surrogates
from .trajectory import Message, Trajectory

log = logging.getLogger(__name__)
_MAX_DEPTH = 64


class TrajectoryLog:
    def __init__(self, run_dir: str | os.PathLike):
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.run_dir / "trajectories.jsonl"
        self.images = ImageStore(self.run_dir / "images")
        self._lock = threading.Lock()
        self._repair()

    def _repair(self, *, failed_write: bool = False) -> None:
        """Cut a partial last line off the log. Found when the log is opened (a crash mid-write), the fragment is
        kept aside and said; after a write that failed (``failed_write``: the caller raises), it is only cut."""
        if not self.path.exists() or self.path.stat().st_size == 0:
            return
        data = self.path.read_bytes()
        if data.endswith(b"\n"):
            return
        cut = data.rfind(b"\n") + 1
        if not failed_write:
            (self.path.parent / (self.path.name + ".partial")).write_bytes(data[cut:])
        with open(self.path, "r+b") as handle:
            handle.truncate(cut)
        if failed_write:
            return
        log.warning("trajectory log %s ended in a partial line (a crash mid-write); kept the %d finished lines "
                    "and moved the fragment aside", self.path, data[:cut].count(b"\n"))

    def append(self, trajectory: Trajectory, images: Mapping[str, Image.Image] = {}) -> None:
        """Write one finished trajectory; ``images`` maps the content hashes it refers to onto the pictures."""
        for ref, image in images.items():
            if not self.images.path(ref).exists():
                self.images.put(image)
        line = _json_line(trajectory) + "\n"
        with self._lock:
            try:
                with open(self.path, "a", encoding="utf-8") as handle:
                    handle.write(line)
                    handle.flush()
                    os.fsync(handle.fileno())
            except OSError as exc:
                with contextlib.suppress(OSError):
                    self._repair(failed_write=True)  # a line cut short by the failure goes: the log stays whole lines
                raise StorageError(f"cannot write the trajectory log {self.path}: {exc.strerror or exc}; free space "
                                   "there (or choose another run directory) and run the same command again to go "
                                   "on") from None

    def __iter__(self) -> Iterator[Trajectory]:
        return self.read()

    def read(self) -> Iterator[Trajectory]:
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    yield Trajectory.model_validate_json(line)
                except ValueError as exc:
                    log.warning("%s line %d is not a trajectory (%s); skipped", self.path, number, exc)

    def latest(self) -> list[Trajectory]:
        """Each episode once: the last trajectory logged under its ``episode_key`` (an episode replayed after it met
        an environment fault is logged again; `EpisodeRunner`), in the order of their first appearance; a
        trajectory without a key counts on its own."""
        episodes: dict[Any, Trajectory] = {}
        for number, trajectory in enumerate(self.read()):
            episodes[trajectory.metadata.get("episode_key") or ("line", number)] = trajectory
        return list(episodes.values())

    def __len__(self) -> int:
        return len(self.latest())

    # ---- export to TRL's formats ----------------------------------------------------------------------------
    def to_sft_record(self, trajectory: Trajectory, tool_role: str = "user") -> dict[str, Any]:
        """``{"messages": [...], "images": [PIL...]}`` as TRL's SFTTrainer takes for VLMs: image parts become
        ``{"type": "image"}`` placeholders and the pictures are listed in order. Tool responses get ``tool_role``
        (chat templates without a tool role take them as user turns)."""
        return to_chat(trajectory.messages, self.images, tool_role=tool_role)

    def to_grpo_prompt(self, trajectory: Trajectory, tool_role: str = "user") -> dict[str, Any]:
        """The prompt part (system + first user turn) with the ground truth, as GRPO datasets take it."""
        record = to_chat(trajectory.messages[:2], self.images, tool_role=tool_role)
        return {"prompt": record["messages"], "images": record["images"], "answer": trajectory.ground_truth,
                "task": trajectory.task, "example_id": trajectory.example_id}


def _json_line(trajectory: Trajectory) -> str:
    """The trajectory as one JSON line. A record that pydantic cannot serialise (a tool's output nested deeper than
    its limit, an unpaired surrogate in a tool's text) is written scrubbed rather than lost: surrogates become
    U+FFFD, nesting below `_MAX_DEPTH` becomes a placeholder string, and ``metadata.log_scrubbed`` says so."""
    try:
        return trajectory.model_dump_json()
    except ValueError as exc:  # PydanticSerializationError is a ValueError
        log.warning("trajectory %s could not be serialised as is (%s); writing it scrubbed", trajectory.id, exc)
        data = _scrub(trajectory, 0)
        data["metadata"]["log_scrubbed"] = str(exc)[:200]
        return json.dumps(data, ensure_ascii=False)


def _scrub(value: Any, depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return "<nested too deeply to log>"
    if isinstance(value, BaseModel):
        value = {name: getattr(value, name) for name in type(value).model_fields}
    if isinstance(value, str):
        return replace_surrogates(value)[0]
    if isinstance(value, dict):
        return {_scrub(str(k), depth): _scrub(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub(v, depth + 1) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None  # as pydantic writes them
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if hasattr(value, "value") and isinstance(value.value, str):  # enums
        return value.value
    return replace_surrogates(str(value))[0]


def to_chat(messages: list[Message] | list[dict], images: ImageStore | Mapping[str, Image.Image],
            tool_role: str = "user") -> dict[str, Any]:
    """Chat messages with ``{"type": "image"}`` placeholders and the ordered image list (TRL / processors)."""
    out_messages, out_images = [], []
    for message in messages:
        message = message if isinstance(message, Message) else Message.model_validate(message)
        content = []
        for part in message.content:
            if part.type == "image":
                out_images.append(images.get(part.image) if isinstance(images, ImageStore) else images[part.image])
                content.append({"type": "image"})
            else:
                content.append({"type": "text", "text": part.text or ""})
        out_messages.append({"role": tool_role if message.role == "tool" else message.role, "content": content})
    return {"messages": out_messages, "images": out_images}

