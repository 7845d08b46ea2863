import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import sample_plugin  # noqa: E402
from vista.testing import registered_plugin  # noqa: E402


@pytest.fixture
def registry():
    with registered_plugin(sample_plugin, "sample") as reg:
        yield reg


@pytest.fixture
def tools(registry):
    return registry.tools
