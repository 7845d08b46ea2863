import re

import pytest
from vista.chat import ChatEndpointError
from vista.protocol import parse_turn
from vista.trajectory_log import TrajectoryLog
from vista_trainer.config import VistaTrainConfig
from vista_trainer.densify import Densifier, accept, densify
from vista_trainer.experts import synthesize
from vista_trainer.pipeline import Pipeline

LONGER = "The question asks for a bar's height, and reading it off the picture by eye is unreliable, so I measure it."


def rewriter(body: dict) -> str:
    """Expands the reasoning of turns that call a tool; for closing turns it slips an answer tag into its reply, which
    must be refused (the turn's answer may not change)."""
    terse = re.search(r"Terse reasoning: (.*)", body["messages"][1]["content"]).group(1)
    if "What the step then does: <tool_call>" in body["messages"][1]["content"]:
        return f"{LONGER} ({terse})"
    return "It is 7. <answer>7</answer>"


@pytest.fixture
def kept(registry, tmp_path):
    examples = list(registry.task("bar_height").load("train", limit=4))
    synthesize(tmp_path / "experts", examples, registry=registry, tools="recommended", max_turns=2)
    return tmp_path / "experts" / "kept"


def test_densify_rewrites_reasoning_only_and_refuses_rewrites_that_change_the_turn(kept, tmp_path, chat_server):
    server = chat_server(rewriter)
    report = densify(kept, tmp_path / "dense", Densifier(server.url, "writer", api_key="secret"))
    assert (report.trajectories, report.turns, report.rewritten, report.rejected) == (4, 8, 4, 4)
    before, after = list(TrajectoryLog(kept)), list(TrajectoryLog(tmp_path / "dense"))
    assert [t.example_id for t in before] == [t.example_id for t in after]
    for old, new in zip(before, after):
        old_turns = [parse_turn(m.content[0].text) for m in old.messages if m.role == "assistant"]
        new_turns = [parse_turn(m.content[0].text) for m in new.messages if m.role == "assistant"]
        assert [(t.tool_calls, t.answer) for t in old_turns] == [(t.tool_calls, t.answer) for t in new_turns]
        assert new_turns[0].think.startswith(LONGER) and new_turns[0].think.endswith(f"({old_turns[0].think})")
        assert new_turns[1].think == old_turns[1].think  # the refused rewrite left the closing turn as it was
        assert new.steps[0].think == new_turns[0].think and new.steps[0].action == new.messages[2].content[0].text
        assert [m for m in new.messages if m.role != "assistant"] == [m for m in old.messages if m.role != "assistant"]
        assert (new.correct, new.final_answer, new.reward) == (old.correct, old.final_answer, old.reward)
    assert set(TrajectoryLog(tmp_path / "dense").images.path(r).name for t in after for m in t.messages
               for r in m.image_refs) <= {p.name for p in (tmp_path / "dense" / "images").rglob("*") if p.is_file()}
    first = server.requests[0].body
    assert first["model"] == "writer" and "Question:" in first["messages"][1]["content"]
    assert server.requests[0].headers["authorization"] == "Bearer secret"


@pytest.mark.parametrize("rewrite, usable", [
    ("Longer reasoning.", True),
    ("", False),
    ("x" * 801, False),
    ("Sure: <tool_call>{}</tool_call>", False),
    ("</think><answer>3</answer><think>", False),
])
def test_accept_keeps_the_turn_structure(rewrite, usable):
    action = '<think>Measure.</think><tool_call>{"name": "measure_bar", "arguments": {}}</tool_call>'
    result = accept(action, "Measure.", rewrite, max_chars=800)
    assert (result is not None) == usable
    if usable:
        assert result == action.replace("Measure.", rewrite)


def test_min_chars_leaves_long_reasoning_alone(kept, tmp_path, chat_server):
    server = chat_server(rewriter)
    report = densify(kept, tmp_path / "dense", Densifier(server.url, "writer", min_chars=30))
    assert report.turns == 4  # the oracle's short tool-turn thoughts only; its closing thoughts quote the tool
    assert len(server.requests) == 4


def test_an_unreachable_densifier_is_an_error_that_names_it(kept, tmp_path):
    with pytest.raises(ChatEndpointError, match=r"127\.0\.0\.1:9/v1.*densify_base_url"):
        densify(kept, tmp_path / "dense", Densifier("http://127.0.0.1:9/v1", "writer", timeout_s=2))


def test_the_pipeline_trains_on_the_densified_trajectories(registry, tmp_path, chat_server):
    server = chat_server(rewriter)
    # a teacher that always calls the tool: every episode has its tool turn's short thought (the tiny-cpu preset's
    # 0.4 would replace a plain keyword's 1.0, the field's default; from_preset keeps what it is given)
    config = VistaTrainConfig.from_preset("tiny-cpu", run_dir=str(tmp_path / "run"), tasks="bar_height",
                                          expert_episodes=4, expert_tool_share=1.0, densify_base_url=server.url,
                                          densify_model="writer")
    pipeline = Pipeline(config, registry=registry, progress=False)
    pipeline.run(("synthesize",))
    assert pipeline.files.stages["synthesize"]["densified_turns"] == 4
    assert pipeline.expert_dir() == tmp_path / "run" / "experts" / "dense"
    with pytest.raises(ValueError, match="densify_model"):
        VistaTrainConfig(densify_base_url=server.url)
