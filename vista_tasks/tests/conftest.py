"""Shared helpers: the real benchmark samples (`vista.testing.real_data_dir`: $VISTA_DATA_DIR, else ../shared/data),
and writers of tiny fixtures in the publishers'
formats (PNG images, JSON, parquet shards with embedded images)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from vista.checks import check_task
from vista.testing import real_data_dir


@pytest.fixture
def shared_data() -> Path:
    root = real_data_dir()
    if not root.is_dir():
        pytest.skip(f"the real benchmark samples are not at {root} (set VISTA_DATA_DIR to their folder)")
    return root


class Fixtures:
    """Helpers for fixture files, handed to tests as the `fx` fixture (test modules are imported in importlib
    mode, so they cannot import this conftest by name)."""

    @staticmethod
    def write_png(path: Path, size: tuple[int, int] = (24, 16), color: str = "white") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, color).save(path)
        return path

    @staticmethod
    def png_bytes(size: tuple[int, int] = (24, 16), color: str = "white") -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", size, color).save(buffer, format="PNG")
        return buffer.getvalue()

    @staticmethod
    def write_json(path: Path, data) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    @staticmethod
    def write_parquet(path: Path, rows: list[dict]) -> Path:
        import pyarrow as pa
        import pyarrow.parquet as pq

        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path

    @staticmethod
    def verify_images(example) -> int:
        """Open every image of an example (header and checksums, no full decode) and return how many."""
        for image in example.images:
            if isinstance(image, Image.Image):
                assert image.width > 0 and image.height > 0
                continue
            with Image.open(image) as opened:
                assert opened.width > 0 and opened.height > 0
                opened.verify()
        return len(example.images)

    @staticmethod
    def assert_task_checks(task, root: Path, split: str | None = None, n: int = 3) -> list:
        """`vista.checks.check_task` passes on the fixture; the loaded examples come back."""
        problems = check_task(task, split, data_dir=root, n=n)
        assert not [p for p in problems if p.level == "error"], problems
        assert task.data_status(root).present
        return list(task.load(split or task.splits[0], root))


@pytest.fixture
def fx() -> type[Fixtures]:
    return Fixtures
