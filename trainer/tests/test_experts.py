import re

import pytest
from vista.runner import EpisodeRunError
from vista.trajectory_log import TrajectoryLog
from vista_trainer.experts import OracleExpert, TeacherExpert, synthesize


def test_oracle_expert_calls_the_tool_for_real_and_quotes_its_output(registry, tmp_path):
    examples = list(registry.task("bar_height").load("train", limit=4))
    report = synthesize(tmp_path, examples, registry=registry, tools="recommended", max_turns=2)
    assert (report.played, report.kept) == (4, 4)
    for trajectory in TrajectoryLog(tmp_path / "kept"):
        [call] = trajectory.tool_calls
        assert call.name == "measure_bar" and call.error is None
        assert call.output_data["height"] == int(trajectory.ground_truth)  # measured on the picture, not told
        closing = trajectory.steps[-1].think
        assert f"height {trajectory.ground_truth}" in closing and trajectory.correct


def test_a_teacher_of_two_habits_solves_its_share_with_tools_and_answers_the_rest(registry, tmp_path):
    examples = list(registry.task("bar_height").load("train", limit=24))
    expert = OracleExpert(registry, tool_share=0.5, seed=3)
    report = synthesize(tmp_path / "a", examples, policy=expert, registry=registry, tools="recommended", max_turns=2)
    assert (report.played, report.kept) == (24, 24)
    kept = list(TrajectoryLog(tmp_path / "a" / "kept"))
    with_tools = {t.example_id for t in kept if t.tool_calls}
    assert 4 <= len(with_tools) <= 20  # about half, drawn per example
    assert with_tools == {e.id for e in examples if expert.with_tools(e.id)}
    for trajectory in kept:
        assert len(trajectory.steps) == (2 if trajectory.tool_calls else 1) and trajectory.correct
    # the draw is the seed's: the same seed picks the same examples, another seed others
    again, other = OracleExpert(registry, tool_share=0.5, seed=3), OracleExpert(registry, tool_share=0.5, seed=4)
    for expert_ in (again, other):
        for example in examples:
            expert_.expect(example)
    assert {e.id for e in examples if again.with_tools(e.id)} == with_tools
    assert {e.id for e in examples if other.with_tools(e.id)} != with_tools
    with pytest.raises(ValueError, match="tool_share"):
        OracleExpert(registry, tool_share=1.5)


def test_oracle_expert_needs_a_plan(registry):
    with pytest.raises(KeyError, match="expect"):
        OracleExpert(registry)({"example_id": "nope", "turn": 0, "turns_left": 1, "messages": []})


def teacher(body: dict) -> str:
    """A teacher that measures with the tool, then answers what the tool said, except that it misreads every blue
    bar by one (so the outcome filter has something to drop)."""
    messages = body["messages"]
    question = next(p["text"] for p in messages[1]["content"] if p["type"] == "text" and "bar" in p["text"])
    color = "red" if "red" in question else "blue"
    if len(messages) == 2:
        return ('<think>Measure it.</think><tool_call>{"name": "measure_bar", "arguments": {"color": "'
                + color + '"}}</tool_call>')
    height = int(re.search(r"height (\d+)", messages[-1]["content"][0]["text"]).group(1))
    return f"<think>The tool says {height}.</think><answer>{height + (color == 'blue')}</answer>"


def test_teacher_expert_over_http_and_the_outcome_filter(registry, tmp_path, chat_server):
    server = chat_server(teacher)
    examples = list(registry.task("bar_height").load("train", limit=6))
    expert = TeacherExpert(server.url, "teacher-model", api_key="k")
    report = synthesize(tmp_path, examples, policy=expert, registry=registry, tools="recommended", max_turns=2)
    red = sum(e.metadata["color"] == "red" for e in examples)
    assert 0 < red < 6 and (report.played, report.kept) == (6, red)
    assert all(t.correct for t in TrajectoryLog(tmp_path / "kept"))
    first = server.requests[0]
    assert first.path == "/v1/chat/completions" and first.body["model"] == "teacher-model"
    assert first.headers["authorization"] == "Bearer k"
    assert first.body["stop"] == ["</tool_call>", "</answer>"]  # a turn ends at its call or answer, as the policy's
    image = next(p for p in first.body["messages"][1]["content"] if p["type"] == "image_url")
    assert image["image_url"]["url"].startswith("data:image/png;base64,")


def test_teacher_errors_name_the_endpoint(registry, tmp_path):
    teacher = TeacherExpert("http://127.0.0.1:9/v1", "m", timeout_s=2)
    examples = list(registry.task("bar_height").load("train", limit=1))
    with pytest.raises(EpisodeRunError, match="ConnectError"):
        synthesize(tmp_path, examples, policy=teacher, registry=registry, tools="recommended")
