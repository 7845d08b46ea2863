"""An evaluation of MATH-Vision testmini with a scripted policy, end to end on the real images (in $VISTA_DATA_DIR,
else ../shared/data)."""

import json

import pytest
import vista
from vista.evaluation import EvalConfig, evaluate
from vista.testing import real_data_dir

DATA = real_data_dir()
pytestmark = pytest.mark.skipif(not (DATA / "mathvision" / "testmini.jsonl").exists(),
                                reason=f"no MATH-Vision sample at {DATA / 'mathvision'} (set VISTA_DATA_DIR)")


def zoom_then_guess(obs):
    """Zoom into the top-left quarter of the real figure, then answer (A) or 0."""
    if obs["turn"] == 0:
        width, height = obs["images"][obs["image_names"]["image_0"]].size
        bbox = [0, 0, max(1, width // 2), max(1, height // 2)]
        arguments = json.dumps({"image": "image_0", "bbox": bbox, "factor": 2})
        return f'<think>look closer</think><tool_call>{{"name": "zoom", "arguments": {arguments}}}</tool_call>'
    multiple_choice = "Options:" in obs["messages"][1]["content"][-1]["text"]
    return f"<think>my guess</think><answer>{'A' if multiple_choice else '0'}</answer>"


@pytest.mark.slow  # 23 s on 2 shared cores
def test_mathvision_testmini_end_to_end(tmp_path):
    registry = vista.load_plugins("all")
    problems = [json.loads(line) for line in (DATA / "mathvision" / "testmini.jsonl").read_text().splitlines()]
    expected = sum((p["answer"] == "A") if p["options"] else (str(p["answer"]).strip() == "0") for p in problems)
    config = EvalConfig(tasks=["mathvision"], split="testmini", limit=None, data_dir=str(DATA), concurrency=8)
    results = evaluate(zoom_then_guess, config, tmp_path, registry=registry)
    row = results["per_task"]["mathvision"]
    assert row["n"] == 304
    assert row["accuracy"] == pytest.approx(expected / 304)
    zoom = results["tools"]["per_tool"]["zoom"]
    assert zoom["calls"] == 304 and zoom["failure_rate"] == 0.0
    assert results["errors"]["failed"] == 304 - expected
