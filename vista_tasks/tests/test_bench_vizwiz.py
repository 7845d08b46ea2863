import pytest
from vista_tasks.benchmarks import VizWiz


def _answers(*pairs):
    return [{"answer": a, "answer_confidence": "yes"} for a, n in pairs for _ in range(n)]


def test_reads_annotations_and_scores_vqa_accuracy(tmp_path, fx):
    fx.write_json(tmp_path / "Annotations" / "val.json", [
        {"image": "VizWiz_val_00000000.jpg", "question": "What is this?", "answer_type": "other",
         "answerable": 1, "answers": _answers(("soda", 6), ("coke", 2), ("can of coke", 2))},
        {"image": "VizWiz_val_00000001.jpg", "question": "Is it cold outside?", "answer_type": "unanswerable",
         "answerable": 0, "answers": _answers(("unanswerable", 10))},
    ])
    fx.write_png(tmp_path / "val" / "VizWiz_val_00000000.jpg")
    fx.write_png(tmp_path / "val" / "VizWiz_val_00000001.jpg")
    task = VizWiz()
    soda, unanswerable = fx.assert_task_checks(task, tmp_path, "val")
    assert soda.answer == "soda" and len(soda.metadata["answers"]) == 10
    assert task.score("Soda.", soda) == 1.0
    assert task.score("coke", soda) == pytest.approx((2 * (1 / 3) + 8 * (2 / 3)) / 10)
    assert task.score("water", soda) == 0.0
    assert task.score("unanswerable", unanswerable) == 1.0
