from vista_tasks.benchmarks import AOKVQA


def test_reads_the_release_with_coco_images_and_scores_direct_answers(tmp_path, fx):
    fx.write_json(tmp_path / "aokvqa_v1p0_val.json", [
        {"split": "val", "image_id": 461751, "question_id": "22jbM6gDxdaMaunuzgrsBB",
         "question": "What is in the motorcyclist's mouth?", "choices": ["toothpick", "food", "popsicle stick",
                                                                           "cigarette"],
         "correct_choice_idx": 3, "direct_answers": ["cigarette"] * 6 + ["cigar"] * 2 + ["smoke", "pipe"],
         "difficult_direct_answer": False, "rationales": ["He's smoking while riding."]},
    ])
    fx.write_png(tmp_path / "coco" / "val2017" / "000000461751.jpg")
    task = AOKVQA()
    (example,) = fx.assert_task_checks(task, tmp_path, "val")
    assert example.answer == "cigarette"
    assert example.metadata["mc_choices"][example.metadata["correct_choice_idx"]] == "cigarette"
    assert task.score("A cigarette.", example) == 1.0
    assert task.score("cigar", example) == 2 / 3
    assert task.score("pipe", example) == 1 / 3
    assert task.score("toothpick", example) == 0.0
