import types
from collections import Counter

import pytest
from vista import hookimpl
from vista.testing import registered_plugin
from vista_tasks.benchmarks import FigureQA, IconQA, TabMWP
from vista_tasks.mixture import Mixture, MixtureMetrics


@pytest.fixture
def figureqa_dir(tmp_path, fx):
    fx.write_json(tmp_path / "validation1" / "qa_pairs.json", {"qa_pairs": [
        {"image_index": i % 2, "question_id": i, "question_string": f"Is color {i} the maximum?", "answer": i % 2,
         "color1_name": f"c{i}", "color2_name": "--None--"} for i in range(6)]})
    fx.write_png(tmp_path / "validation1" / "png" / "0.png")
    fx.write_png(tmp_path / "validation1" / "png" / "1.png")
    return tmp_path


@pytest.fixture
def mixture(shared_data, figureqa_dir):
    return Mixture({TabMWP(): 3.0, FigureQA(): 1.0}, split={"tabmwp": "test1k", "figureqa": "validation1"},
                   data_dirs={"tabmwp": shared_data / "tabmwp", "figureqa": figureqa_dir}, pool_size=40, seed=3)


def test_same_seed_same_sample_and_another_seed_another(mixture, shared_data, figureqa_dir):
    first = [(e.task, e.id) for e in mixture.sample(60)]
    again = Mixture(dict(zip(mixture.tasks.values(), mixture.weights.values(), strict=True)), split=mixture.splits,
                    data_dirs=mixture.data_dirs, pool_size=40, seed=3)
    other = Mixture(dict(zip(mixture.tasks.values(), mixture.weights.values(), strict=True)), split=mixture.splits,
                    data_dirs=mixture.data_dirs, pool_size=40, seed=4)
    assert [(e.task, e.id) for e in again.sample(60)] == first
    assert [(e.task, e.id) for e in other.sample(60)] != first


def test_tasks_are_drawn_by_weight(mixture):
    counts = Counter(e.task for e in mixture.sample(800))
    assert 0.70 < counts["tabmwp"] / 800 < 0.80


def test_a_task_repeats_no_example_before_its_pool_is_used_up(mixture):
    figureqa = [e.id for e in mixture.sample(200) if e.task == "figureqa"]
    assert len(figureqa) >= 12
    assert len(set(figureqa[:6])) == 6  # the whole pool of 6 before any repeat
    assert sorted(figureqa[6:12]) == sorted(figureqa[:6])


def test_scores_with_each_tasks_own_metric_and_aggregates(mixture):
    metrics = MixtureMetrics.for_mixture(mixture)
    for example in mixture.sample(40):
        prediction = str(example.answer) if example.task == "figureqa" else None
        metrics.add(example, mixture.score(prediction, example))
    summary = metrics.summary()
    assert summary["tasks"]["figureqa"]["mean"] == 1.0 and summary["tasks"]["tabmwp"]["mean"] == 0.0
    n_figureqa = summary["tasks"]["figureqa"]["n"]
    assert summary["n"] == 40 and summary["micro"] == pytest.approx(n_figureqa / 40)
    assert summary["macro"] == 0.5
    assert summary["weighted"] == pytest.approx(1.0 / 4.0)
    assert summary["by_distribution"] == {"id": 1.0, "ood": 0.0}


def test_metrics_refuse_a_score_outside_zero_one():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        MixtureMetrics().add("chartqa", 1.5)


def test_scoring_an_example_from_another_task_is_an_error(mixture, shared_data):
    stranger = next(IconQA().load("test", shared_data / "iconqa"))
    with pytest.raises(ValueError, match="not in this mixture"):
        mixture.score("A", stranger)


@pytest.mark.parametrize("weights, message", [
    ({}, "at least one task"),
    ({FigureQA(): 0.0}, "positive finite"),
    ({FigureQA(): float("nan")}, "positive finite"),
])
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ValueError, match=message):
        Mixture(weights)


def test_a_bad_split_or_data_dir_is_refused():
    with pytest.raises(ValueError, match="Did you mean 'validation[12]'"):
        Mixture({FigureQA(): 1.0}, split="validation")
    with pytest.raises(ValueError, match="not in the mixture"):
        Mixture({FigureQA(): 1.0}, data_dirs={"chartqa": "/nowhere"})


def test_tasks_are_found_by_registered_name(figureqa_dir):
    plugin = types.ModuleType("fixture_tasks")
    plugin.register_tasks = hookimpl(lambda register: register(FigureQA()))
    with registered_plugin(plugin, "fixture_tasks"):
        mixture = Mixture({"figureqa": 1.0}, split="validation1", data_dirs={"figureqa": figureqa_dir})
        assert {e.task for e in mixture.sample(3)} == {"figureqa"}
        with pytest.raises(ValueError, match="Did you mean 'figureqa'"):
            Mixture({"figurqa": 1.0})


def test_procedural_and_benchmark_tasks_mix(figureqa_dir):
    from vista_tasks.procedural import ShapeSceneTask

    def draw(seed):
        mixture = Mixture({ShapeSceneTask(): 1.0, FigureQA(): 1.0}, split={"figureqa": "validation1"},
                          data_dirs={"figureqa": figureqa_dir}, pool_size=3, seed=seed)
        return [(e.task, e.id, e.question, str(e.answer)) for e in mixture.sample(12)]

    first = draw(5)
    assert {task for task, *_ in first} == {"shape_scene", "figureqa"}
    assert draw(5) == first
