import asyncio
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_env import call, expert
from vista.attribution import attribution_markdown, error_attribution
from vista.execution import ToolExecutor
from vista.runner import EpisodeRunError, EpisodeRunner, EpisodeSpec
from vista.testing import Pause
from vista.trajectory_log import TrajectoryLog, to_chat

HERE = Path(__file__).parent


def test_runner_plays_concurrently_and_logs_every_episode(registry, tmp_path):
    log = TrajectoryLog(tmp_path)
    runner = EpisodeRunner(expert, concurrency=4, log=log, tools=["scale"])
    trajectories = runner.run(EpisodeSpec("multiply", seed=s) for s in range(12))
    assert len(trajectories) == 12 and all(t.reward == 1.0 for t in trajectories)
    assert len(log) == 12 and {t.metadata["episode_key"] for t in log} == {f"multiply|seed:{s}|0" for s in range(12)}
    images = list((tmp_path / "images").glob("*.png"))
    assert images and len(images) <= 12  # stored once per distinct picture


def test_async_policy_episodes_overlap(registry):
    in_flight, peak = 0, 0

    async def slow_expert(obs):
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        return expert(obs)

    runner = EpisodeRunner(slow_expert, concurrency=16, tools=["scale"])
    trajectories = runner.run(EpisodeSpec("multiply", seed=s) for s in range(16))
    assert len(trajectories) == 16 and all(t.reward == 1.0 for t in trajectories)
    assert peak > 1  # generations of different episodes were in flight together


def test_a_failing_episode_does_not_stop_the_others(registry, tmp_path):
    def flaky(obs):
        if obs["example_id"] == "train-3":
            raise ConnectionError("policy server went away")
        return expert(obs)

    log = TrajectoryLog(tmp_path)
    specs = [EpisodeSpec("multiply", example=e) for e in registry.task("multiply").load("train", limit=6)]
    with pytest.raises(EpisodeRunError, match="train-3") as caught:
        EpisodeRunner(flaky, log=log, tools=["scale"]).run(specs)
    assert len(caught.value.finished) == 5 and len(log) == 5
    assert len(EpisodeRunner(expert, log=log, tools=["scale"]).run(specs)) == 1  # the rerun plays only train-3


def test_crashed_and_timed_out_tools_become_error_observations(registry):
    registry.tools["pause"] = Pause()

    def policy(obs):
        if obs["turn"] == 0:
            return "<think>t</think>" + call("pause", seconds=2) + call("crashing")
        return "<think>t</think><answer>0</answer>"

    runner = EpisodeRunner(policy, executor=ToolExecutor(timeout_s=0.3), tools=["pause", "crashing"])
    [trajectory] = runner.run([EpisodeSpec("multiply", seed=0)])
    errors = [c.error.code for c in trajectory.steps[0].tool_calls]
    assert errors == ["timeout", "crashed"] and trajectory.terminated


def test_runner_resume_skips_finished_episodes(registry, tmp_path):
    log = TrajectoryLog(tmp_path)
    EpisodeRunner(expert, log=log, tools=["scale"]).run(EpisodeSpec("multiply", seed=s) for s in range(3))
    played = EpisodeRunner(expert, log=log, tools=["scale"]).run(EpisodeSpec("multiply", seed=s) for s in range(5))
    assert [t.metadata["episode_key"] for t in played] == ["multiply|seed:3|0", "multiply|seed:4|0"]
    assert len(log) == 5


KILLER = textwrap.dedent("""
    import os, sys
    sys.path.insert(0, {here!r})
    import sample_plugin
    from test_env import expert
    from vista.testing import registered_plugin
    from vista.runner import EpisodeSpec, EpisodeRunError, EpisodeRunner
    from vista.trajectory_log import TrajectoryLog

    finished = []
    def on_episode(t):
        finished.append(t)
        if len(finished) == 5:
            os.kill(os.getpid(), 9)  # SIGKILL: no cleanup, no flush beyond what the log already did

    with registered_plugin(sample_plugin, "sample"):
        EpisodeRunner(expert, concurrency=3, log=TrajectoryLog({run!r}), on_episode=on_episode,
                      tools=["scale"]).run(EpisodeSpec("multiply", seed=s) for s in range(20))
""")


def test_killed_run_resumes_without_losing_a_finished_episode(registry, tmp_path):
    script = KILLER.format(here=str(HERE), run=str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    log = TrajectoryLog(tmp_path)
    survivors = {t.metadata["episode_key"] for t in log}
    assert len(survivors) >= 5
    # a crash in the middle of a write leaves a partial line: the log repairs itself and keeps the rest
    with open(log.path, "a") as handle:
        handle.write('{"id": "half-writ')
    log = TrajectoryLog(tmp_path)
    assert {t.metadata["episode_key"] for t in log} == survivors
    assert (tmp_path / "trajectories.jsonl.partial").read_text() == '{"id": "half-writ'
    EpisodeRunner(expert, log=log, tools=["scale"]).run(EpisodeSpec("multiply", seed=s) for s in range(20))
    keys = [t.metadata["episode_key"] for t in log]
    assert len(keys) == 20 and len(set(keys)) == 20


def test_export_to_trl_message_format(registry, tmp_path):
    log = TrajectoryLog(tmp_path)
    EpisodeRunner(expert, log=log, tools=["scale"]).run([EpisodeSpec("multiply", seed=1)])
    [trajectory] = list(log)
    record = log.to_sft_record(trajectory)
    roles = [m["role"] for m in record["messages"]]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    assert record["messages"][1]["content"][1] == {"type": "image"} and len(record["images"]) == 1
    assert record["images"][0].size[1] == 20
    prompt = log.to_grpo_prompt(trajectory)
    assert [m["role"] for m in prompt["prompt"]] == ["system", "user"] and prompt["answer"] == trajectory.ground_truth
    assert to_chat(trajectory.messages, log.images, tool_role="tool")["messages"][3]["role"] == "tool"


def test_error_attribution_table_counts(registry):
    def policy(obs):
        seed = int(obs["example_id"].split("-")[1])
        if obs["turn"] == 0 and seed % 3 == 0:
            return "<think>t</think>" + call("scale", value="x")  # E3, never fixed
        if obs["turn"] == 0 and seed % 3 == 1:
            return expert(obs)
        if obs["turn"] == 0:
            return "<think>t</think><answer>-5</answer>"  # no tools, wrong: NO_TOOL
        return expert(obs) if seed % 3 == 1 else "<think>t</think><answer>-5</answer>"

    trajectories = EpisodeRunner(policy, tools=["scale"]).run(EpisodeSpec("multiply", seed=s) for s in range(9))
    table = error_attribution(trajectories)
    assert table["episodes"] == 9 and table["failed"] == 6
    assert table["primary"]["E3"]["count"] == 3 and table["primary"]["NO_TOOL"]["count"] == 3
    assert table["per_call_rate"]["E3"] == pytest.approx(3 / 6)
    assert "| E3 |" in attribution_markdown(table)
