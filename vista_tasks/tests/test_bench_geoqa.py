import pickle

import numpy as np
from vista_tasks.benchmarks import GeoQA, UniGeo


def _problem(id, label):
    return {"id": id, "subject": "angle", "English_problem": "As shown in the figure, AB ∥ CD, ∠1 = 50°. Find ∠2.",
            "choices": ["40°", "50°", "130°", "140°"], "choice_nums": [40.0, 50.0, 130.0, 140.0], "label": label,
            "image": np.full((20, 30), 255, dtype=np.uint8), "numbers": [50.0],
            "manual_program": ["g_minus", "C_3", "N_0"], "formal_point": ["parallel"]}


def _write(path, problems):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(problems))


def test_geoqa_reads_the_pickled_release_and_matches_choice_or_value(tmp_path, fx):
    _write(tmp_path / "test.pk", [_problem(1, 2), _problem(2, 1)])
    task = GeoQA()
    first, second = fx.assert_task_checks(task, tmp_path, "test")
    assert first.answer == "130°" and first.open_images()[0].size == (30, 20)
    assert task.score("(C)", first) == 1.0
    assert task.score("∠2 = 130.0004", first) == 1.0      # within the official 0.001
    assert task.score("130.01", first) == 0.0
    assert task.score("50°", first) == 0.0
    assert task.score("The answer is B", second) == 1.0


def test_unigeo_reads_calculation_files(tmp_path, fx):
    problem = _problem(7, 0)
    del problem["English_problem"]
    problem["token_list"] = ["Find", "∠2", "."]
    _write(tmp_path / "calculation_test.pk", [problem])
    task = UniGeo()
    (example,) = fx.assert_task_checks(task, tmp_path, "test")
    assert example.question == "Find ∠2 ." and example.answer == "40°"


def test_geoqa_reads_token_list_and_a_float_diagram(tmp_path, fx):
    # chen-judge/GeoQA utils.py (SeqReader): the problem is ' '.join(token_list); the image is an array scaled by
    # 1/255 there, so its dtype is not fixed.
    problem = _problem(3, 1)
    del problem["English_problem"]
    problem["token_list"] = ["如图", "，", "∠", "1", "=", "N_0", "°"]
    problem["image"] = np.full((10, 12), 0.5, dtype=np.float64)
    _write(tmp_path / "test.pk", [problem])
    task = GeoQA()
    (example,) = fx.assert_task_checks(task, tmp_path, "test")
    assert example.question == "如图，∠ 1 = 50 °"
    assert example.open_images()[0].getpixel((0, 0)) == 127
    assert task.score("50", example) == 1.0 and task.score("40", example) == 0.0
