from vista_tasks.benchmarks import AOKVQA

# The schema and the rule are those of allenai/aokvqa: README.md (aokvqa_v1p0_<split>.json, COCO 2017 paths) and
# evaluation/eval_predictions.py (difficult_direct_answer questions left out, exact string matching).


def test_reads_the_release_with_coco_images_and_scores_direct_answers(tmp_path, fx):
    fx.write_json(tmp_path / "aokvqa_v1p0_val.json", [
        {"split": "val", "image_id": 461751, "question_id": "22jbM6gDxdaMaunuzgrsBB",
         "question": "What is in the motorcyclist's mouth?", "choices": ["toothpick", "food", "popsicle stick",
                                                                           "cigarette"],
         "correct_choice_idx": 3, "direct_answers": ["cigarette"] * 6 + ["cigar"] * 2 + ["smoke", "pipe"],
         "difficult_direct_answer": False, "rationales": ["He's smoking while riding."]},
        {"split": "val", "image_id": 461751, "question_id": "difficult1", "question": "Which brand is it?",
         "choices": ["a", "b", "c", "d"], "correct_choice_idx": 0, "direct_answers": ["a"] * 10,
         "difficult_direct_answer": True, "rationales": []},
    ])
    fx.write_png(tmp_path / "coco" / "val2017" / "000000461751.jpg")
    task = AOKVQA()
    (example,) = fx.assert_task_checks(task, tmp_path, "val")
    assert example.answer == "cigarette"
    assert example.metadata["mc_choices"][example.metadata["correct_choice_idx"]] == "cigarette"
    assert task.score("<answer>cigarette</answer>", example) == 1.0
    assert task.score("Cigarette", example) == 0.0          # the official script compares strings exactly
    assert task.score("cigar", example) == 2 / 3
    assert task.score("pipe", example) == 1 / 3
    assert task.score("toothpick", example) == 0.0
