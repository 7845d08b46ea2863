"""Whatever a policy writes, the episode goes on and is logged: nothing it sends escapes `step` as an exception, and
every finished episode is written to the `TrajectoryLog` and reads back. Bounds of the parser, non-finite numbers as
E3, unpaired surrogates, NUL, huge and deeply nested calls."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vista.env import VistaEnv
from vista.errors import ErrorClass
from vista.protocol import MAX_DEPTH, parse_call
from vista.trajectory import ToolCallRecord
from vista.trajectory_log import TrajectoryLog


def call(name, **arguments):
    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def nested(depth):
    return "[" * depth + "1" + "]" * depth


HOSTILE = [
    '<think>t</think><tool_call>{"name":"scale","arguments":{"zz":' + nested(256) + '}}</tool_call>',
    '<think>t</think><tool_call>' + nested(5000) + '</tool_call>',
    "<think>\ud800 broken \udfff</think><answer>\ud83d</answer>",
    "<think>nul \x00 here</think><tool_call>{\"name\": \"scale\\u0000\", \"arguments\": {}}</tool_call>",
    '<think>t</think><tool_call>{"name":"scale","arguments":{"value":1e999}}</tool_call>',
    '<think>t</think><tool_call>{"name":"scale","arguments":{"value":NaN,"factor":-Infinity}}</tool_call>',
    '<think>t</think><tool_call>{"name":"scale","arguments":{"value":' + "9" * 5000 + '}}</tool_call>',
    '<think>t</think><tool_call>{"name":"scale","name":"crop","arguments":{}}</tool_call>',
    "<think>" + "a" * 200_000 + "</think><answer>1</answer>",
    "<tool_call>" + '{"name":"scale","arguments":{"value":[' + ",".join(["1"] * 30000) + "]}}</tool_call>",
]


@pytest.fixture
def env(registry):
    env = VistaEnv("multiply", tools=["scale", "crop"], max_turns=2)
    yield env
    env.close()


def play(env, log, actions, seed=0):
    env.reset(seed=seed)
    for action in actions:
        *_, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            log.append(info["trajectory"], env.images)
            return info["trajectory"]
    *_, info = env.step("<think>done</think><answer>0</answer>")
    log.append(info["trajectory"], env.images)
    return info["trajectory"]


def test_hostile_turns_are_observations_and_every_episode_is_logged(env, tmp_path):
    log = TrajectoryLog(tmp_path)
    played = [play(env, log, [action], seed) for seed, action in enumerate(HOSTILE)]
    back = list(TrajectoryLog(tmp_path))
    assert [t.id for t in back] == [t.id for t in played]
    assert all(t.reward is not None for t in back)


def test_nesting_past_the_bound_is_e1_and_never_reaches_pydantic(env, tmp_path):
    env.reset(seed=1)
    *_, info = env.step(HOSTILE[0])
    [record] = info["tool_calls"]
    assert record["error"]["error_class"] == "E1" and record["error"]["code"] == "too_deep"
    assert str(MAX_DEPTH) in record["error"]["message"]
    call_ok, error = parse_call('{"name": "scale", "arguments": {"value": ' + nested(MAX_DEPTH - 3) + "}}")
    assert error is None and call_ok.name == "scale"


@pytest.mark.parametrize("value", ["1e999", "-1e999", "NaN", "Infinity", "9" * 400])
def test_non_finite_numbers_are_the_policys_value_error_e3(env, value):
    env.reset(seed=2)
    *_, info = env.step('<think>t</think><tool_call>{"name":"scale","arguments":{"value":' + value + ',"factor":2}}'
                        "</tool_call>")
    [record] = info["tool_calls"]
    assert record["error"]["error_class"] == "E3" and record["error"]["argument"] == "value"
    assert "finite" in record["error"]["message"]


def test_unpaired_surrogates_are_replaced_and_said(env, tmp_path):
    log = TrajectoryLog(tmp_path)
    trajectory = play(env, log, [HOSTILE[2]])
    assert trajectory.final_answer == "\ufffd" and "\ufffd broken \ufffd" in trajectory.steps[0].action
    assert "invalid_unicode" in [e.code for e in trajectory.steps[0].format_errors]
    assert trajectory.reward == -1.0  # not text, so not a well-formed turn
    [back] = TrajectoryLog(tmp_path)
    assert back.steps[0].action == trajectory.steps[0].action


def test_a_surrogate_escaped_inside_a_call_is_e1_and_never_reaches_the_observation(env):
    """JSON's \\ud800 decodes to a lone surrogate: the call is refused before its name or arguments are echoed."""
    env.reset(seed=4)
    obs, *_, info = env.step('<think>t</think><tool_call>{"name":"\\ud800","arguments":{"v":"\\udfff"}}</tool_call>')
    [record] = info["tool_calls"]
    assert record["error"]["error_class"] == "E1" and record["error"]["code"] == "invalid_unicode"
    text = "".join(part.get("text") or "" for m in obs["messages"] for part in m["content"])
    text.encode("utf-8")  # no lone surrogate anywhere in what the policy will be shown
    _, error = parse_call('{"name": "scale", "arguments": "{\\"value\\": \\"\\\\ud800\\"}"}')
    assert error.code == "invalid_unicode"


def test_duplicate_keys_and_huge_integers_get_clear_errors():
    _, error = parse_call('{"name": "scale", "name": "crop", "arguments": {}}')
    assert error.error_class is ErrorClass.E1 and "'name' appears twice" in error.message
    _, error = parse_call('{"name": "scale", "arguments": {"value": ' + "7" * 4400 + "}}")
    assert error is None  # read as a float (infinite): validation makes it E3, as the test above shows
    _, error = parse_call('{"name": "scale", "arguments": {"value": "' + "x" * 70000 + '"}}')
    assert error.error_class is ErrorClass.E1 and error.code == "call_too_long"


def test_a_record_pydantic_cannot_write_is_logged_scrubbed_not_lost(env, tmp_path):
    """A tool's output can be deeper than pydantic serialises, or carry a surrogate: written scrubbed, said so."""
    log = TrajectoryLog(tmp_path)
    env.reset(seed=3)
    *_, info = env.step("<think>t</think><answer>1</answer>")
    trajectory = info["trajectory"]
    deep: list = []
    for _ in range(400):
        deep = [deep]
    trajectory.steps[0].tool_calls.append(ToolCallRecord(raw="{}", output_text="bad \udc80 text", output_data=deep))
    log.append(trajectory, env.images)
    [back] = TrajectoryLog(tmp_path)
    assert back.id == trajectory.id and back.metadata["log_scrubbed"]
    assert back.steps[0].tool_calls[0].output_text == "bad \ufffd text"


hostile_text = st.lists(
    st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)
    | st.sampled_from(["<think>", "</think>", "<tool_call>", "</tool_call>", "<answer>", "</answer>", "[", "]",
                       "{", "}", '"name": "scale"', '"arguments": ', '"value": ', "1e999", "NaN", "\ud800", "\x00",
                       nested(300)]),
    max_size=25).map("".join)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(st.lists(hostile_text, min_size=1, max_size=3))
def test_any_text_never_escapes_step_and_the_episode_reads_back(env, tmp_path_factory, actions):
    log = TrajectoryLog(tmp_path_factory.mktemp("log"))
    trajectory = play(env, log, actions)
    [back] = list(log)
    assert back.id == trajectory.id and len(back.steps) == len(trajectory.steps)
