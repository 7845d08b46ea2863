import asyncio
import json

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env
from vista.env import VistaEnv


def call(name, **arguments):
    return f'<tool_call>{json.dumps({"name": name, "arguments": arguments})}</tool_call>'


def expert(obs):
    """A scripted expert for the multiply task: scale, then answer with the tool's result."""
    last = obs["messages"][-1]
    if last["role"] == "user" and obs["turn"] == 0:
        question = last["content"][-1]["text"]
        value, factor = [int(w.strip(".")) for w in question.split() if w.strip(".").isdigit()][:2]
        return f"<think>multiply with the tool</think>{call('scale', value=value, factor=factor)}"
    response = last["content"][0]["text"]
    result = response.split(": ", 1)[1].split("<")[0]
    if "error" in result:
        return "<think>the tool failed; I cannot compute it</think><answer>0</answer>"
    return f"<think>the tool says {result}</think><answer>{int(float(result))}</answer>"


@pytest.fixture
def env(registry):
    env = VistaEnv("multiply", tools=["scale", "crop"])
    yield env
    env.close()


def test_reset_shows_system_prompt_with_schemas_question_and_image(env):
    obs, info = env.reset(seed=3)
    system, user = obs["messages"]
    assert '"name":"scale"' in system["content"][0]["text"] and "additionalProperties" in system["content"][0]["text"]
    assert user["content"][1]["type"] == "image" and "Multiply" in user["content"][-1]["text"]
    assert obs["image_names"]["image_0"] in obs["images"]
    assert env.observation_space.contains(obs) and info["turn"] == 0


def test_correct_tool_using_episode_gets_reward_one(env):
    obs, _ = env.reset(seed=1)
    obs, reward, terminated, truncated, info = env.step(expert(obs))
    assert (reward, terminated, truncated) == (0.0, False, False)
    assert info["error_classes"] == [] and info["tool_calls"][0]["valid"]
    response = obs["messages"][-1]
    assert response["role"] == "tool" and "<tool_response>scale:" in response["content"][0]["text"]
    obs, reward, terminated, truncated, info = env.step(expert(obs))
    assert terminated and not truncated and reward == 1.0
    assert info["reward_components"] == {"repetition": 0.0, "format": 0.0, "correctness": 1.0}
    assert sum(info["reward_components"].values()) == reward
    assert info["correct"] and info["primary_error"] is None


def test_malformed_call_is_classified_and_the_episode_goes_on(env):
    env.reset(seed=2)
    obs, reward, terminated, truncated, info = env.step('<think>x</think>' + call("scale", valu=3))
    assert info["error_classes"] == ["E2"] and not terminated and not truncated
    assert "Did you mean 'value'?" in obs["messages"][-1]["content"][0]["text"]
    obs, *_ , info = env.step("<think>x</think><tool_call>scale(3)</tool_call>")
    assert info["error_classes"] == ["E1"]


def test_wrong_answer_after_valid_tool_output_is_e6(env):
    obs, _ = env.reset(seed=4)
    obs, *_ = env.step(expert(obs))
    obs, reward, terminated, _, info = env.step("<think>I prefer my own guess</think><answer>-1</answer>")
    assert terminated and reward == 0.0 and info["primary_error"] == "E6"


def test_unrecovered_call_error_is_the_primary_error(env):
    env.reset(seed=5)
    env.step("<think>x</think>" + call("scale", value=2, factor=99))
    *_, info = env.step("<think>x</think><answer>4</answer>")
    assert info["primary_error"] == "E3"


def test_repetitive_episode_gets_the_call_repetition_tier(env):
    obs, _ = env.reset(seed=6)
    first = expert(obs)
    env.step(first)
    env.step(first.replace("multiply with the tool", "again"))
    *_, reward, terminated, truncated, info = env.step("<think>done</think><answer>1</answer>")
    assert reward == -1.5 and info["reward_components"]["repetition"] == -1.5


def test_repeated_lines_and_loops_get_harsher_tiers(env):
    env.reset(seed=7)
    line = "Let me look at the picture more carefully now."
    *_, reward, _, _, info = env.step(f"<think>{line}\n{line}</think><answer>1</answer>")
    assert reward == -2.0 and "turn 1" in info["trajectory"].metadata["reward_details"]["repetition"]
    env.reset(seed=8)
    loop = " ".join(["the bar is tall and the bar is"] * 4)
    *_, reward, _, _, info = env.step(f"<think>{loop}</think><answer>1</answer>")
    assert reward == -3.0 and info["reward_components"]["format"] == 0.0


def test_format_violation_gets_the_format_penalty(env):
    env.reset(seed=9)
    *_, reward, terminated, _, info = env.step("<answer>12</answer>")
    assert terminated and reward == -1.0 and "missing_think" in info["format_errors"]
    assert info["primary_error"] in ("FORMAT", None)


def test_tool_calls_past_max_turns_truncate(registry):
    env = VistaEnv("multiply", tools=["scale"], max_turns=1)
    env.reset(seed=1)
    _, _, terminated, truncated, _ = env.step("<think>a</think>" + call("scale", value=1))
    assert not (terminated or truncated)
    obs, reward, terminated, truncated, info = env.step("<think>b</think>" + call("scale", value=2))
    assert truncated and not terminated and reward == -1.0
    assert info["tool_calls"][0]["output_text"] is None  # not executed
    with pytest.raises(RuntimeError, match="reset"):
        env.step("<think>c</think><answer>1</answer>")


def test_tool_returning_an_image_adds_it_to_the_conversation(env):
    env.reset(seed=1)
    obs, *_ = env.step("<think>crop</think>" + call("crop", bbox=[0, 0, 2, 2]))
    assert "image_1" in obs["image_names"]
    parts = obs["messages"][-1]["content"]
    assert {"type": "image", "image": obs["image_names"]["image_1"]} in parts


def test_same_seed_same_episode(env):
    a, _ = env.reset(seed=11)
    b, _ = env.reset(seed=11)
    assert a["messages"] == b["messages"]


def test_gymnasium_make_and_check_env(registry):
    env = gymnasium.make("vista/multiply-v0")
    obs, _ = env.reset(seed=0)
    assert "Multiply" in obs["messages"][1]["content"][-1]["text"]
    check_env(env.unwrapped, skip_render_check=True)


def test_astep_runs_a_turns_calls_concurrently(env):
    async def episode():
        obs, _ = env.reset(seed=1)
        turn = "<think>both</think>" + call("scale", value=2) + call("crop", bbox=[0, 0, 1, 1])
        return await env.astep(turn)

    obs, reward, terminated, truncated, info = asyncio.run(episode())
    assert [c["valid"] for c in info["tool_calls"]] == [True, True] and not terminated


def test_unknown_task_and_bad_split_say_what_to_do(registry):
    with pytest.raises(KeyError, match="Did you mean 'multiply'"):
        VistaEnv("multipy")
    with pytest.raises(ValueError, match="splits are"):
        VistaEnv("multiply", split="validation")


def test_an_overlong_turn_is_cut_and_flagged(registry):
    env = VistaEnv("multiply", tools=["scale"], max_action_chars=200)
    env.reset(seed=1)
    *_, info = env.step("<think>" + "x" * 500 + "</think><answer>1</answer>")
    assert "action_too_long" in info["format_errors"] and len(env.trajectory.steps[0].action) == 200
