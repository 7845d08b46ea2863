"""End to end with real parts: every procedural task's oracle plays through VistaEnv with the real tools.

The oracle's calls must all validate against the tools' schemas (the contract between the task and tool packages);
every correct oracle episode scores 1, whether the tools answer or are unreachable; and the expert's evidence check
(`OracleExpert.unsupported`) accepts the episodes whose tools read the picture right and rejects those whose tools
contradict the answer, so that behaviour cloning does not learn to answer against what a tool said.
"""

import dataclasses
import re

import pytest
import vista
from vista.runner import EpisodeRunner, EpisodeSpec
from vista.serve.client import RemoteTool, ToolServerClient
from vista.testing import registered_plugin
from vista_tools_diagram.tools import GeometrySolve
from vista_tools_math.tools import Calculator
from vista_tools_perception.detection import DetectObjects
from vista_trainer.experts import OracleExpert, synthesize

UP = 6      # examples per task played with the real tools (the OCR and chart readers take about a second each)
DOWN = 15   # examples per task played with every tool unreachable (fast: each call fails at once)
SUPPORTED = 0.85  # share of the correct episodes, over all tasks, whose tools show the oracle's evidence


@pytest.fixture(scope="module")
def registry():
    return vista.load_plugins("all")


def procedural(registry):
    return sorted(name for name, task in registry.tasks.items() if task.procedural)


def play(registry, name, count, expert=None):
    examples = list(registry.task(name).load("test", seed=0, limit=count))
    expert = expert or OracleExpert(registry)
    for example in examples:
        assert expert.expect(example), f"{name}: no oracle for {example.id}"
    runner = EpisodeRunner(expert, concurrency=4, registry=registry, split="test")
    return runner.run(EpisodeSpec(name, example=e) for e in examples)


@pytest.fixture(scope="module")
def played_up(registry):
    """{task: (expert, trajectories)} with the real tools."""
    out = {}
    for name in procedural(registry):
        expert = OracleExpert(registry)
        out[name] = (expert, play(registry, name, UP, expert))
    return out


@pytest.mark.slow  # played_up plays every task's oracle once for the module: 55 s on 2 shared cores
def test_oracle_calls_validate_against_the_real_tools(played_up):
    failures = [f"{name}/{t.example_id}: {call.error.message}"
                for name, (_, trajectories) in played_up.items() for t in trajectories for call in t.tool_calls
                if call.error is not None and call.error.error_class.value in ("E1", "E2", "E3")]
    assert not failures, "\n".join(failures)


@pytest.mark.slow  # played_up
def test_every_correct_oracle_episode_scores_one_with_the_tools_up(played_up):
    wrong = [f"{name}/{t.example_id}: reward {t.reward} {t.reward_components}"
             for name, (_, trajectories) in played_up.items() for t in trajectories if t.correct and t.reward != 1.0]
    assert not wrong, "\n".join(wrong)
    correct = sum(t.correct for _, trajectories in played_up.values() for t in trajectories)
    assert correct == UP * len(played_up)  # the oracle answers the gold answer


def test_every_correct_oracle_episode_scores_one_with_the_tools_down(registry):
    dead = ToolServerClient("http://127.0.0.1:9", retries=0)
    down = dataclasses.replace(registry, tools={
        name: RemoteTool({"name": name, "family": tool.family, "description": tool.description,
                          "schema": tool.argument_schema(), "output_schema": tool.output_schema(),
                          "task_argument": tool.task_argument}, dead)
        for name, tool in registry.tools.items()})
    wrong, correct = [], 0
    for name in procedural(registry):
        for t in play(down, name, DOWN):
            assert t.tool_calls and all(call.error is not None for call in t.tool_calls), t.example_id
            correct += bool(t.correct)
            if t.correct and t.reward != 1.0:
                wrong.append(f"{name}/{t.example_id}: reward {t.reward} {t.reward_components}")
    assert not wrong, "\n".join(wrong)
    assert correct == DOWN * len(procedural(registry))


@pytest.mark.slow  # played_up
def test_the_evidence_of_correct_episodes_is_in_what_the_tools_returned(played_up):
    """Each oracle names the values its answer follows from; where the tools read the picture right they show
    them. The misses that remain are the tools' own misreads (a chart legend not read, a letter O read as 0)."""
    rates, supported, total, misses = {}, 0, 0, []
    for name, (expert, trajectories) in played_up.items():
        kept = [t for t in trajectories if t.correct and all(call.error is None for call in t.tool_calls)]
        ok = [t for t in kept if not expert.unsupported(t)]
        misses += [f"{t.example_id}: {expert.unsupported(t)}" for t in kept if expert.unsupported(t)]
        rates[name] = f"{len(ok)}/{len(kept)}"
        supported, total = supported + len(ok), total + len(kept)
        assert len(ok) >= 2 * len(kept) / 3, f"{name}: {rates[name]} supported; {misses}"
    print("supported:", rates, "\nunsupported:", misses)
    assert total and supported / total >= SUPPORTED, (rates, misses)


# -- a tool that contradicts the answer: the same tool, with every number it prints raised by 100 (by so much that
# no other number of its output lands on the right value, as 4 + 1 would on the 5 of a 3-4-5 triangle), and a
# detector that found nothing claiming 100 objects


def _shifted(text: str) -> str:
    text = re.sub(r"^no .+? found", "0 objects found", text)
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 100), text)


def _lying(tool_class):
    class Lying(tool_class):
        def run(self, args, ctx):
            result = super().run(args, ctx)
            return result.model_copy(update={"text": _shifted(result.text)})

    return Lying


class _LyingTools:
    def __init__(self, *tools):
        self.tools = tools

    @vista.hookimpl
    def register_tools(self, register):
        for tool in self.tools:
            register(tool)


@pytest.mark.parametrize("task, liar, others", [
    ("shape_scene", DetectObjects, "tasks"),               # reads the scene wrong
    ("shape_math", Calculator, "tasks,perception"),        # reads right, computes wrong
    ("geometry_diagram", GeometrySolve, "tasks"),          # solves wrong
])
def test_demonstrations_are_dropped_when_the_tools_contradict_the_answer(tmp_path, task, liar, others):
    with registered_plugin(_LyingTools(_lying(liar)()), "liars", select=others) as registry:
        examples = list(registry.task(task).load("test", seed=0, limit=8))
        report = synthesize(tmp_path / "lied", examples, registry=registry, split="test")
    assert (report.played, report.kept, report.unsupported) == (8, 0, 8)
    with registered_plugin(_LyingTools(liar()), "honest", select=others) as registry:
        report = synthesize(tmp_path / "honest", examples, registry=registry, split="test")
    assert (report.played, report.kept, report.unsupported) == (8, 8, 0)
