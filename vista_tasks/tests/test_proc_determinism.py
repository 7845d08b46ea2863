"""Same seed, same example in another process too (other hash seed): what trajectories and evaluations rely on."""

import os
import subprocess
import sys

DIGEST = """
import hashlib
from vista_tasks.procedural import ChartPieTask, ReceiptTask, ShapeSceneTask, TableMWPTask
digest = hashlib.sha256()
for task in (ChartPieTask(), ReceiptTask(), ShapeSceneTask(), TableMWPTask()):
    for seed in (0, 12345):
        example = task.generate(seed, "train")
        digest.update(repr((example.id, example.question, example.answer, example.metadata)).encode())
        digest.update(example.open_images()[0].tobytes())
print(digest.hexdigest())
"""


def test_examples_are_identical_in_another_process(capsys):
    exec(DIGEST, {})
    here = capsys.readouterr().out.strip()
    # a hash seed this process is unlikely to have, so set and dict order cannot leak into the examples
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    done = subprocess.run([sys.executable, "-c", DIGEST], env=env, capture_output=True, text=True, timeout=300,
                          cwd=os.path.dirname(__file__))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == here
