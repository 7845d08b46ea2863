from vista_tasks.benchmarks import CLEVR, ClevrMath


def test_clevr_reads_questions_and_types_answers(tmp_path, fx):
    fx.write_json(tmp_path / "questions" / "CLEVR_val_questions.json", {"info": {"split": "val"}, "questions": [
        {"image_index": 0, "split": "val", "image_filename": "CLEVR_val_000000.png", "question_index": 0,
         "question": "Are there more cubes than spheres?", "answer": "yes", "question_family_index": 1,
         "program": [{"inputs": [], "function": "scene", "value_inputs": []}]},
        {"image_index": 0, "split": "val", "image_filename": "CLEVR_val_000000.png", "question_index": 1,
         "question": "How many red things are there?", "answer": "2", "question_family_index": 2, "program": []},
        {"image_index": 0, "split": "val", "image_filename": "CLEVR_val_000000.png", "question_index": 2,
         "question": "What material is the big cube?", "answer": "rubber", "question_family_index": 3,
         "program": []},
    ]})
    fx.write_png(tmp_path / "images" / "val" / "CLEVR_val_000000.png")
    task = CLEVR()
    more, count, material = fx.assert_task_checks(task, tmp_path, "val")
    assert [e.answer_type for e in (more, count, material)] == ["boolean", "integer", "text"]
    assert task.score("Yes", more) == 1.0 and task.score("no", more) == 0.0
    assert task.score("There are two.", count) == 0.0 and task.score("The answer is 2", count) == 1.0
    assert task.score("Rubber", material) == 1.0 and task.score("metal", material) == 0.0


def test_clevr_math_reads_the_hugging_face_parquet_layout(tmp_path, fx):
    fx.write_parquet(tmp_path / "general" / "test-00000-of-00001.parquet", [
        {"template": "subtraction", "id": "CLEVR_test_000001.png",
         "question": "Subtract all red cubes. How many objects are left?", "label": 4,
         "image": {"bytes": fx.png_bytes(), "path": None}},
        {"template": "addition", "id": "CLEVR_test_000002.png",
         "question": "Add 2 spheres. How many spheres exist?", "label": 5,
         "image": {"bytes": fx.png_bytes(), "path": None}}])
    task = ClevrMath()
    left, spheres = fx.assert_task_checks(task, tmp_path, "test")
    assert left.metadata["template"] == "subtraction" and task.distribution == "ood"
    assert task.score("4 objects", left) == 1.0 and task.score("5", left) == 0.0
    assert task.score("\\boxed{5}", spheres) == 1.0


def test_clevr_math_reads_the_publishers_json_with_each_questions_image_split(tmp_path, fx):
    # dali-does/clevr-math, clevr-math-loader.py: clevr-math-<split>.json holds {"questions": [...]}; the image is
    # CLEVR_v1.0/images/<the question's split>/<image_filename>, and its `id` is that file name.
    question = {"split": "val", "image_filename": "CLEVR_val_000007.png", "template_filename": "subtraction.json"}
    fx.write_json(tmp_path / "clevr-math-val.json", {"questions": [
        {**question, "question": "Subtract all cubes. How many objects are left?", "answer": 3},
        {**question, "question": "Subtract all spheres. How many objects are left?", "answer": 5}]})
    fx.write_png(tmp_path / "CLEVR_v1.0" / "images" / "val" / "CLEVR_val_000007.png")
    task = ClevrMath()
    cubes, spheres = fx.assert_task_checks(task, tmp_path, "val")
    assert [cubes.id, spheres.id] == ["val-0", "val-1"]
    assert cubes.metadata["template"] == "subtraction" and cubes.images == spheres.images
    assert task.score("3", cubes) == 1.0 and task.score("5", cubes) == 0.0
