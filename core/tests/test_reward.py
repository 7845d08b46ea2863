"""The hierarchical reward and E1–E6 attribution as the paper defines them: repetition tiers that fire on degenerate
text and not on arithmetic or quoted tool output, non-empty reasoning, components that add up to the total, scorer
errors reported, E1 recovered by any later success, and a wrong answer without tool output kept apart from E6."""

import json

import pytest
from vista.attribution import primary_error
from vista.builtin.hierarchical_reward import HierarchicalReward
from vista.env import VistaEnv
from vista.errors import ErrorClass


def call(name, **arguments):
    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def episode(registry, actions, *, seed=0, reward="hierarchical", example_answer=None):
    env = VistaEnv("multiply", tools=["scale", "crop"], max_turns=3, reward=reward)
    obs, _ = env.reset(seed=seed)
    value, factor = (int(w.strip(".")) for w in obs["messages"][1]["content"][-1]["text"].split()
                     if w.strip(".").isdigit())
    for action in actions:
        text = action(value, factor) if callable(action) else action
        *_, terminated, truncated, info = env.step(text)
        if terminated or truncated:
            env.close()
            return info["trajectory"], value, factor
    raise AssertionError("the episode did not end")


def assert_components_add_up(trajectory):
    assert sum(trajectory.reward_components.values()) == pytest.approx(trajectory.reward)


def test_arithmetic_quoted_across_turns_is_not_a_loop(registry):
    """The closing thought may restate the sum the tool computed; numbers and operators are not words."""
    def sum_text(v, f):
        return f"( {v} + {v} + {v} + {v} + {v} + {v} + {v} + {v} ) / 8"

    trajectory, value, factor = episode(registry, [
        lambda v, f: f"<think>Compute {sum_text(v, f)} first.</think>" + call("scale", value=v, factor=f),
        lambda v, f: f"<think>So {sum_text(v, f)} then scale.</think>" + call("scale", value=v * f, factor=1),
        lambda v, f: f"<think>Finally {sum_text(v, f)} and the answer.</think><answer>{v * f}</answer>",
    ])
    assert trajectory.correct and trajectory.reward == 1.0, trajectory.metadata["reward_details"]
    assert_components_add_up(trajectory)


def test_quoting_the_tool_response_is_not_repetition(registry):
    """A long tool response quoted in each later turn is a quotation, not a degenerate loop."""
    quote = "The tool said: argument 'value' has an invalid value \"x\": 'x' is not of type 'number'."
    trajectory, value, factor = episode(registry, [
        "<think>try it</think>" + call("scale", value="x"),  # E3: the env answers with a long error message
        lambda v, f: f"<think>{quote} Retry.</think>" + call("scale", value="y"),
        lambda v, f: f"<think>{quote} Again.</think>" + call("scale", value=v, factor=f),
        lambda v, f: f"<think>{quote} Now fixed.</think><answer>{v * f}</answer>",
    ])
    assert trajectory.reward_components["repetition"] == 0.0, trajectory.metadata["reward_details"]
    assert trajectory.reward == -1.0  # the E3 calls still break the format (the paper's strict rule)
    assert_components_add_up(trajectory)
    trajectory, *_ = episode(registry, [
        "<think>try it</think>" + call("scale", value="x"),
        lambda v, f: f"<think>{quote} {quote} {quote} {quote}</think><answer>{v * f}</answer>",
    ])
    assert trajectory.reward == -3.0  # a quotation looped within a turn is a loop


def test_each_tier_still_fires_on_the_degenerate_text_it_exists_for(registry):
    loop = " ".join(["the bar is tall and the bar is"] * 4)
    trajectory, *_ = episode(registry, [f"<think>{loop}</think><answer>1</answer>"])
    assert trajectory.reward == -3.0
    line = "I should look at the picture again."
    trajectory, *_ = episode(registry, [f"<think>{line}\n{line}</think><answer>1</answer>"])
    assert trajectory.reward == -2.0
    trajectory, *_ = episode(registry, [lambda v, f: "<think>a</think>" + call("scale", value=v, factor=f),
                                        lambda v, f: "<think>b</think>" + call("scale", value=v, factor=f),
                                        lambda v, f: f"<think>c</think><answer>{v * f}</answer>"])
    assert trajectory.reward == -1.5
    for t in (trajectory,):
        assert_components_add_up(t)


def test_a_sentence_recurring_across_turns_is_not_a_repeated_line(registry):
    trajectory, *_ = episode(registry, [
        lambda v, f: "<think>I will multiply with the tool.</think>" + call("scale", value=v, factor=f),
        lambda v, f: f"<think>I will multiply with the tool.</think><answer>{v * f}</answer>",
    ])
    assert trajectory.reward == 1.0


def test_empty_reasoning_does_not_earn_full_reward(registry):
    trajectory, value, factor = episode(registry, [lambda v, f: f"<think>  </think><answer>{v * f}</answer>"])
    assert trajectory.correct and trajectory.reward == -1.0
    assert "fewer than 1 word" in trajectory.metadata["reward_details"]["format"]
    lenient = HierarchicalReward(min_think_words=0)
    trajectory, *_ = episode(registry, [lambda v, f: f"<think></think><answer>{v * f}</answer>"], reward=lenient)
    assert trajectory.reward == 1.0
    strict = HierarchicalReward(min_think_words=5)
    trajectory, *_ = episode(registry, [lambda v, f: f"<think>it is easy</think><answer>{v * f}</answer>"],
                             reward=strict)
    assert trajectory.reward == -1.0
    with pytest.raises(ValueError, match="min_think_words"):
        HierarchicalReward(min_think_words=-1)


def test_a_recovered_call_error_is_forgiven_only_when_asked(registry):
    actions = ['<think>first try</think><tool_call>{"name": "scale", arguments}</tool_call>',  # E1
               lambda v, f: "<think>again</think>" + call("scale", value=v, factor=f),
               lambda v, f: f"<think>done</think><answer>{v * f}</answer>"]
    trajectory, *_ = episode(registry, actions)
    assert trajectory.correct and trajectory.reward == -1.0  # the paper's strict rule is the default
    trajectory, *_ = episode(registry, actions, reward=HierarchicalReward(forgive_recovered_calls=True))
    assert trajectory.reward == 1.0


def test_a_scorer_that_raises_is_reported_as_such(registry, monkeypatch, caplog):
    task = registry.task("multiply")
    monkeypatch.setattr(type(task), "score", lambda self, prediction, example: 1 / 0)
    trajectory, *_ = episode(registry, ["<think>guess</think><answer>3</answer>"])
    assert trajectory.score == 0.0 and not trajectory.correct
    assert "ZeroDivisionError" in trajectory.metadata["score_error"]
    assert "scorer raised" in trajectory.metadata["reward_details"]["correctness"]
    assert "failed to score" in caplog.text


def test_e1_is_recovered_by_a_later_successful_call_of_any_tool(registry):
    trajectory, *_ = episode(registry, [
        '<think>try</think><tool_call>{"nme": "scale"}</tool_call>',  # E1, no tool name at all
        lambda v, f: "<think>again</think>" + call("scale", value=v, factor=f),
        "<think>wrong on purpose</think><answer>-1</answer>",
    ])
    assert trajectory.tool_calls[0].error.error_class is ErrorClass.E1
    assert primary_error(trajectory) is ErrorClass.E6  # wrong after valid tool output, the E1 was recovered


def test_an_unrecovered_e2_stays_the_primary_error(registry):
    trajectory, *_ = episode(registry, [
        lambda v, f: "<think>try</think>" + call("scale", valeu=v),  # E2
        "<think>give up</think><answer>-1</answer>",
    ])
    assert primary_error(trajectory) is ErrorClass.E2


def test_a_wrong_answer_without_tool_output_is_not_e6(registry):
    trajectory, *_ = episode(registry, ["<think>no tools needed</think><answer>-1</answer>"])
    assert trajectory.primary_error is ErrorClass.NO_TOOL
    assert ErrorClass.NO_TOOL.description.startswith("wrong answer without valid tool output")


@pytest.mark.parametrize("loop", ["1 2 3 4 5 6 7 8 9 " * 200, "= + = + ( ) " * 300, "27 + 5 + 7 + 9 = 48\n" * 100,
                                  "loop" * 1000, "我们重复这个循环" * 300], ids=["digits", "operators", "arithmetic",
                                                                             "unspaced", "cjk"])
def test_a_loop_in_any_script_is_a_loop(registry, loop):
    """Numbers and operators are not words, but a long run of them looping is still degenerate."""
    trajectory, *_ = episode(registry, [lambda v, f: f"<think>so {loop}</think><answer>{v * f}</answer>"])
    assert trajectory.correct and trajectory.reward == -3.0
    assert "compress" in trajectory.metadata["reward_details"]["repetition"]


def test_reasoning_in_numbers_is_reasoning(registry):
    trajectory, *_ = episode(registry, [lambda v, f: f"<think>{v} * {f} = {v * f}</think><answer>{v * f}</answer>"])
    assert trajectory.reward == 1.0


def test_a_call_error_is_recovered_only_by_a_later_turn(registry):
    """A garbage call beside a valid one in the same turn: the policy never saw the error, so nothing was
    recovered."""
    trajectory, *_ = episode(registry, [
        lambda v, f: '<think>two calls</think><tool_call>{"nme": 1}</tool_call>' + call("scale", value=v, factor=f),
        "<think>wrong on purpose</think><answer>-1</answer>",
    ])
    assert primary_error(trajectory) is ErrorClass.E1


def test_a_tool_failure_retried_with_success_leaves_the_blame_to_reasoning(registry):
    env = VistaEnv("multiply", tools=["scale", "crashing"], max_turns=3)
    env.reset(seed=0)
    env.step("<think>try</think>" + call("crashing"))
    env.step("<think>again</think>" + call("crashing"))
    *_, info = env.step("<think>give up</think><answer>-1</answer>")
    assert info["trajectory"].primary_error is ErrorClass.TOOL_FAILURE  # never recovered
    env.close()


def test_evidence_is_matched_token_by_token_and_numbers_by_value():
    from vista.task import evidence_missing

    text = "Ann | 27.0\nBob | 1,200\ntotal 27,5,7,9 and 10-3; Perth | 6.2"
    assert evidence_missing(["ann | 27", "Bob | 1200", "5", "3"], text) == []
    assert evidence_missing(["27579", "-3", "Perth | 6"], text) == ["27579", "-3", "Perth | 6"]
    # values read off a drawing: within the task's relative tolerance, and not beyond it
    assert evidence_missing(["Perth | 6"], text, rel_tol=0.05) == []
    assert evidence_missing(["Perth | 6.4"], text, rel_tol=0.05) == []
    assert evidence_missing(["Perth | 5"], text, rel_tol=0.05) == ["Perth | 5"]
