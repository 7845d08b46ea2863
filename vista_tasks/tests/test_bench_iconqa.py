from vista_tasks.benchmarks import IconQA


def test_loads_all_150_items_with_every_image(shared_data, fx):
    examples = list(IconQA().load("test", shared_data / "iconqa"))
    assert len(examples) == 150
    kinds = {kind: [e for e in examples if e.metadata["ques_type"] == kind]
             for kind in ("choose_img", "choose_txt", "fill_in_blank")}
    assert {kind: len(items) for kind, items in kinds.items()} == {
        "choose_img": 50, "choose_txt": 50, "fill_in_blank": 50}
    opened = sum(fx.verify_images(e) for e in examples)
    # choose_img questions carry their choice pictures as extra images
    assert opened == 150 + sum(len(e.choices) for e in kinds["choose_img"])


def test_index_answers_become_choices_and_score_by_letter_or_text(shared_data):
    task = IconQA()
    for example in task.load("test", shared_data / "iconqa"):
        if example.answer_type == "multiple_choice":
            index = example.metadata["answer_index"]
            assert example.choices[index] == example.answer
            assert task.score(f"({'ABCDE'[index]})", example) == 1.0
            assert task.score(example.answer, example) == 1.0
            assert task.score(f"({'ABCDE'[(index + 1) % len(example.choices)]})", example) == 0.0
        else:
            assert task.score(f"The answer is {example.answer}.", example) == 1.0
            assert task.score("The answer is 123456.", example) == 0.0


def test_check_task_on_the_real_sample(shared_data, fx):
    fx.assert_task_checks(IconQA(), shared_data / "iconqa", "test", n=10)
