from vista_tasks.benchmarks import Geometry3K


def test_reads_the_release_and_matches_choices_by_letter_text_or_value(tmp_path, fx):
    problem = {"id": 2401, "problem_text": "Find x. Round to the nearest tenth.",
               "choices": ["5.8", "6.5", "2\\sqrt{11}", "7.2"], "answer": "C",
               "precise_value": [5.8, 6.5, 6.6332495807, 7.2], "rough_value": [5.8, 6.5, 6.63, 7.2],
               "problem_type_graph": ["Triangle"], "problem_type_goal": ["Length"], "source": "textbook1",
               "comment": "", "annotat_text": "", "unit": "", "compact_choices": [], "compact_text": "",
               "text_logic_form": ["Find(x)"], "diagram_logic_form": ["Equals(LengthOf(Line(A, B)), x)"],
               "line_instances": ["AB"], "point_positions": {"A": [0, 0], "B": [1, 1]}, "circle_instances": []}
    fx.write_json(tmp_path / "test" / "2401" / "data.json", problem)
    fx.write_json(tmp_path / "test" / "2401" / "logic_form.json", {"diagram_logic_form": ["Line(A, B)"]})
    fx.write_png(tmp_path / "test" / "2401" / "img_diagram.png")
    task = Geometry3K()
    (example,) = fx.assert_task_checks(task, tmp_path, "test")
    assert example.answer == "2\\sqrt{11}" and example.metadata["answer_letter"] == "C"
    assert example.metadata["logic_form"] == {"diagram_logic_form": ["Line(A, B)"]}
    assert task.score("(C)", example) == 1.0
    assert task.score("x = 6.63", example) == 1.0         # the value of choice C
    assert task.score("6.5", example) == 0.0
    assert task.score("9.1", example) == 0.0              # close to no choice
    assert task.score("B", example) == 0.0


def test_the_ten_real_problems_load_with_their_text_logic_forms(shared_data, fx):
    task = Geometry3K()
    examples = list(task.load("train", shared_data / "geometry3k"))
    assert len(examples) == 10 and len({e.id for e in examples}) == 10
    assert all(fx.verify_images(e) == 1 for e in examples)
    assert all(e.metadata["text_logic_form"] and e.metadata["diagram_logic_form"] for e in examples)
    for example in examples:
        letter = example.metadata["answer_letter"]
        assert task.score(f"({letter})", example) == 1.0, example.id
        wrong = next(c for c in "ABCD" if c != letter and example.choices["ABCD".index(c)] != example.answer)
        assert task.score(wrong, example) == 0.0, example.id
