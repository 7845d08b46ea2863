import pytest
from vista.checks import CheckFailed, check_task
from vista_tasks.benchmarks import ThinkVL


def test_reads_the_grpo_split(tmp_path, fx):
    fx.write_json(tmp_path / "VLAA-Thinking-GRPO-25K.json", [
        {"id": "clevr_math-1", "image": "images/clevr_math/1.png", "ds_name": "clevr_math",
         "question": "<image>Subtract all balls. How many objects are left?", "answer": "3"},
        {"id": "geoqa170k-2", "image": "images/geoqa170k/2.png", "ds_name": "geoqa170k",
         "problem": "Find the angle.\nChoices:\n(A) 20\n(B) 40", "gt": "B"},
    ])
    fx.write_png(tmp_path / "images" / "clevr_math" / "1.png")
    fx.write_png(tmp_path / "images" / "geoqa170k" / "2.png")
    task = ThinkVL()
    count, angle = fx.assert_task_checks(task, tmp_path, "train")
    assert count.question.startswith("Subtract") and count.answer_type == "integer"
    assert angle.answer == "40" and angle.answer_type == "multiple_choice"
    assert task.score("3", count) == 1.0 and task.score("(A)", angle) == 0.0


# Records as the publisher documents them: README.md of github.com/UCSC-VLAA/VLAA-Thinking (commit a2c9678,
# "Examples" section: the CLEVR-Math, GeoQA and Synthesis records, with `ds_answer`/`caption` shortened here), laid
# out as its "Dataset Download" section and utils/download_dataset.sh do: the annotation file at the dataset root and
# the images under <root>/images/<source>/, with `image` relative to images/.
DOCUMENTED = [
    {"id": "clevr_math-CLEVR_train_027977.png", "image": "clevr_math/CLEVR_train_027977.png",
     "question": "Subtract all balls. How many objects are left?", "gt": 3,
     "ds_answer": "<think>...</think>\n\n**Answer:** There are 3 objects remaining.", "caption": "...",
     "meta": {"caption_model_id": "gpt-4o-0806-nofilter-global", "rationale": "..."}},
    {"id": "geoqa170k-geoqa_plus-2905-63590", "image": "geoqa170k/geoqa_plus-2905.png",
     "question": "Given a semicircular figure with the diameter represented by AB and intersecting chords AD and BC at "
                 "point P, where angle DPB measures 60.0 degrees, calculate the value of tan(angle ADC) under the "
                 "condition that D denotes the midpoint of the arc BC.\nChoices:\nA: \\frac{1}{2}\nB: 2\n"
                 "C: \\frac{√{3}}{3}\nD: √{3}",
     "gt": "C", "ds_answer": "...", "caption": "...", "meta": {"caption_model_id": "gpt-4o-0806-nofilter-global",
                                                              "rationale": ""}},
    {"id": "synthesis-2", "image": "synthesis/gen_func-func_sine_22135407_qtmb.png",
     "question": "What is the function's equation?",
     "gt": "Step 1: Substitute the point (pi/10, 5) into the function:  5 = a * sin(-5 * (pi/10)).\nStep 2: Simplify "
           "the equation: 5 = a * sin(-pi/2).\nStep 3: Since sin(-pi/2) = -1, we have: 5 = a * -1.\nStep 4: Solve for "
           "a: a = -5.\nStep 5: Substitute the value of a back into the original function: y = -5 * sin(-5 * x).\n\n"
           "†Answer: y = -5 * sin(-5 * x).",
     "ds_answer": "...", "caption": "",
     "meta": {"text_question": "The function y = a * sin(-5 * x) goes through the points (pi/10,5). "
                               "What is the function's equation?"}},
]


def test_documented_records_read_their_images_from_the_images_folder(tmp_path, fx):
    fx.write_json(tmp_path / "VLAA-Thinking-GRPO-25K.json", DOCUMENTED)
    for record in DOCUMENTED:
        fx.write_png(tmp_path / "images" / record["image"])
    task = ThinkVL()
    examples = fx.assert_task_checks(task, tmp_path, "train")
    assert [e.id for e in examples] == [r["id"] for r in DOCUMENTED]
    assert [e.images for e in examples] == [[str(tmp_path / "images" / r["image"])] for r in DOCUMENTED]
    assert all(fx.verify_images(e) == 1 for e in examples)
    assert [e.metadata["source"] for e in examples] == ["clevr_math", "geoqa170k", "synthesis"]
    count, tangent, function = examples
    assert (count.answer, count.answer_type) == ("3", "integer")
    assert tangent.answer_type == "multiple_choice" and tangent.answer == "\\frac{√{3}}{3}"
    assert function.answer == "y = -5 * sin(-5 * x)"
    for example, wrong in ((count, "4"), (tangent, "(B)"), (function, "y = 5 * sin(-5 * x)")):
        assert task.score(example.answer, example) == 1.0
        assert task.score(wrong, example) == 0.0
    assert task.score("The answer is 3.", count) == 1.0 and task.score("(C)", tangent) == 1.0


def test_images_beside_the_annotations_but_outside_images_are_not_found(tmp_path, fx):
    fx.write_json(tmp_path / "VLAA-Thinking-GRPO-25K.json", DOCUMENTED[:1])
    fx.write_png(tmp_path / DOCUMENTED[0]["image"])                   # <root>/clevr_math/..., not <root>/images/
    (example,) = ThinkVL().load("train", tmp_path)
    assert example.images == [str(tmp_path / "images" / DOCUMENTED[0]["image"])]
    with pytest.raises(CheckFailed, match="an image does not open"):
        check_task(ThinkVL(), "train", data_dir=tmp_path, n=1)
