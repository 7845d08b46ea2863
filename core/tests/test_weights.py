import threading
import time

import pytest
from vista.errors import ToolUnavailableError
from vista.weights import load_once, resolve_weights


def test_missing_weights_say_which_and_how(monkeypatch):
    monkeypatch.delenv("VISTA_TEST_WEIGHTS", raising=False)
    with pytest.raises(ToolUnavailableError, match="VISTA_TEST_WEIGHTS"):
        resolve_weights("deplot", None, env_var="VISTA_TEST_WEIGHTS", what="DePlot")
    with pytest.raises(ToolUnavailableError, match="huggingface-cli download google/deplot-nonexistent"):
        resolve_weights("deplot", "google/deplot-nonexistent", env_var="VISTA_TEST_WEIGHTS")


def test_local_directory_and_env_var(tmp_path, monkeypatch):
    assert resolve_weights("t", tmp_path, env_var="X_UNSET_VAR") == str(tmp_path)
    monkeypatch.setenv("VISTA_TEST_WEIGHTS", str(tmp_path))
    assert resolve_weights("t", None, env_var="VISTA_TEST_WEIGHTS") == str(tmp_path)


def test_load_once_loads_once_under_concurrency():
    calls = []

    def loader():
        calls.append(1)
        time.sleep(0.05)
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(load_once(("test", 1), loader))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(r) for r in results}) == 1


def test_a_local_path_that_does_not_exist_is_reported_not_crashed(tmp_path):
    with pytest.raises(ToolUnavailableError, match="neither a local directory"):
        resolve_weights("sam", str(tmp_path / "missing" / "sam-vit-base"), env_var="VISTA_WEIGHTS_SAM")
