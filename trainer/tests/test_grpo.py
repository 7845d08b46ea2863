"""Stage 2 on `trl.GRPOTrainer`: what the loss sees is what the policy sampled (ids, logprobs, images, masks), on the
tiny Qwen2.5-VL and the toy plugin, watched through a forward hook on the policy during `trainer.train()`."""

import json

import pytest
import torch
from vista_trainer.checkpoints import last_checkpoint, load_policy, trained_model
from vista_trainer.codec import IM_END, ChatCodec
from vista_trainer.config import VistaTrainConfig
from vista_trainer.generation import Turns, transformers_generate, vllm_generate
from vista_trainer.grpo import build_trainer
from vista_trainer.rollout import EpisodeRollout
from vista_trainer.tiny import SPECIAL_TOKENS
from vista_trainer.trl_setup import grpo_args, lora_config

ENV = {"tools": "recommended", "max_turns": 2, "reward": "brevity"}


def load(policy_dir, max_length=1024):
    model, processor = load_policy(policy_dir, min_pixels=4 * 28 * 28, max_pixels=16 * 28 * 28)
    return model, ChatCodec(processor, max_length)


class RecordingRollout(EpisodeRollout):
    """The rollout, keeping what it returned to TRL."""

    outputs: list

    def __call__(self, prompts, trainer):
        out = super().__call__(prompts, trainer)
        self.outputs = getattr(self, "outputs", []) + [out]
        return out


class LossInputs:
    """Every forward pass the loss takes (labels given, gradients on), seen by a hook on the policy: per row the
    prompt and completion ids, their logprobs, and the micro-batch's pixel inputs."""

    def __init__(self, model):
        self.calls = []
        model.register_forward_hook(self.hook, with_kwargs=True)

    def hook(self, module, args, kwargs, output):
        if "labels" in kwargs and torch.is_grad_enabled():
            self.calls.append({**{k: v.detach().clone() for k, v in kwargs.items() if torch.is_tensor(v)},
                               "log_probs": output.log_probs.detach().clone()})

    def rows(self):
        for call in self.calls:
            labels, mask = call["labels"], call["attention_mask"].bool()
            start = int((labels != -100).any(dim=0).float().argmax())  # where the completions begin
            width = labels.shape[1] - start
            for row in range(labels.shape[0]):
                yield {"prompt": call["input_ids"][row, :start][mask[row, :start]].tolist(),
                       "completion": call["input_ids"][row, start:][mask[row, start:]].tolist(),
                       "logprobs": call["log_probs"][row, -width:][mask[row, start:]], "call": call, "row": row}


def trainer_for(policy_dir, registry, tmp_path, *, generate=None, env=ENV, examples=None, max_length=1024,
                **overrides):
    model, codec = load(policy_dir, max_length)
    settings = dict(run_dir=str(tmp_path), num_generations=2, grpo_batch_size=4, grpo_gradient_accumulation=1,
                    max_new_tokens=16, grpo_learning_rate=1e-2, save_steps=1, grpo_steps=1, beta=0.1,
                    reward=env["reward"])
    settings.update(overrides)
    config = VistaTrainConfig(**settings)
    task = registry.task("bar_height")
    rollout = RecordingRollout(examples or list(task.load("train", seed=1000, limit=8)), codec, registry=registry,
                               env_kwargs=env, generate=generate)
    records = []
    trainer = build_trainer(model, codec, grpo_args(config, str(tmp_path / "grpo")), rollout,
                            reward_name=env["reward"], tool_names=["measure_bar"],
                            peft_config=lora_config(config), on_metrics=records.append,
                            outage_patience=config.tool_outage_patience)
    return trainer, rollout, records


def episodes_of(rollout):
    for out in rollout.outputs:
        yield from (dict(zip(out, values)) for values in zip(*out.values()))


def test_the_loss_sees_the_ids_sampled_and_their_sampling_logprobs(policy_dir, registry, tmp_path):
    """Token for token, also for turns cut at the budget and turns that sampled a special token; at the first
    step, the policy's logprobs at the sampling temperature equal the sampling logprobs (importance ratio 1)."""
    turns = []

    def recording(trainer, episodes, budgets):
        out = transformers_generate(trainer, episodes, budgets)
        turns.extend(out.ids)
        return out

    torch.manual_seed(0)
    trainer, rollout, records = trainer_for(policy_dir, registry, tmp_path, generate=recording, grpo_batch_size=8,
                                            max_new_tokens=24)
    seen = LossInputs(trainer.model)
    trainer.train()
    rows = list(seen.rows())
    episodes = list(episodes_of(rollout))
    assert len(rows) == len(episodes) == 8
    for episode in episodes:
        [row] = [r for r in rows if r["prompt"] == episode["prompt_ids"] and r["completion"] ==
                 episode["completion_ids"]]
        policy = torch.tensor(episode["env_mask"]).bool()
        sampled = torch.tensor(episode["logprobs"])
        assert torch.allclose(row["logprobs"][policy], sampled[policy], atol=1e-4), \
            (row["logprobs"][policy] - sampled[policy]).abs().max()

    tokenizer = trainer.processing_class.tokenizer
    im_end = tokenizer.convert_tokens_to_ids(IM_END)
    specials = set(tokenizer.convert_tokens_to_ids(list(SPECIAL_TOKENS))) - {im_end}
    cut = [t for t in turns if len(t) == 24 and t[-1] != im_end]
    special = [t for t in turns if specials & set(t)]
    assert cut and special  # the cases a decode -> encode round trip gets wrong are there
    assert any(tokenizer(tokenizer.decode(t, skip_special_tokens=True))["input_ids"] != t for t in cut + special)
    assert records[0]["step"] == 1 and {"loss", "grad_norm", "entropy", "clip_ratio/region_mean", "kl", "accuracy",
                                        "format_rate", "errors/E1_per_call", "tools/measure_bar"} <= set(records[0])


def scripted_tool_turns(color="red"):
    """A policy that crops the bar (a tool that returns an image) and then answers."""
    call = {"name": "crop_bar", "arguments": {"image": "image_0", "color": color}}
    texts = [f"<think>Crop it.</think><tool_call>{json.dumps(call)}</tool_call>{IM_END}",
             f"<answer>3</answer>{IM_END}"]

    def generate(trainer, episodes, budgets):
        tokenizer = trainer.processing_class.tokenizer
        ids = [tokenizer(texts[min(e.env.turn, 1)])["input_ids"] for e in episodes]
        return Turns(ids, [[0.0] * len(i) for i in ids])

    return generate, texts


def test_a_tool_image_reaches_the_loss_and_changes_it(policy_dir, registry, tmp_path):
    import toy_plugin

    env = {**ENV, "tools": ["measure_bar", "crop_bar"]}
    generate, texts = scripted_tool_turns()
    seen_by_shade = {}
    for shade in (255, 90):
        toy_plugin.CropBar.shade = shade
        try:
            trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path / str(shade), generate=generate, env=env)
            seen = LossInputs(trainer.model)
            trainer.train()
        finally:
            toy_plugin.CropBar.shade = 255
        seen_by_shade[shade] = seen
        image_token = trainer.processing_class.image_token_id
        for call in seen.calls:
            grid = call["image_grid_thw"]
            assert grid.shape[0] == 2 * call["input_ids"].shape[0]  # the question's image and the crop, per row
            assert int(grid.prod(-1).sum()) == call["pixel_values"].shape[0]
            features = (grid.prod(-1) // 4).view(-1, 2).sum(-1)  # a 2x2 merge: one token per four patches
            assert torch.equal((call["input_ids"] == image_token).sum(-1), features)
            assert torch.equal(call["mm_token_type_ids"], (call["input_ids"] == image_token).long())
        for episode in episodes_of(rollout):  # env_mask: 1 on exactly the policy's turns, 0 on the rest
            tokenizer = trainer.processing_class.tokenizer
            ids, mask = episode["completion_ids"], episode["env_mask"]
            assert tokenizer.decode([t for t, m in zip(ids, mask) if m]) == "".join(texts)
            env_text = tokenizer.decode([t for t, m in zip(ids, mask) if not m])
            assert "<tool_response>crop_bar: the red bar" in env_text and env_text.count("<|image_pad|>") > 0
            assert episode["images"][1].size == (56, 56) and episode["trajectory"].steps[0].tool_calls[0].valid
    # the same ids, other pixels in the crop: the policy's logprobs after it differ
    bright, dark = (torch.cat([r["logprobs"] for r in seen_by_shade[s].rows()]) for s in (255, 90))
    assert bright.shape == dark.shape and not torch.allclose(bright, dark, atol=1e-5)


def test_one_overlong_episode_does_not_change_what_the_others_generate(policy_dir, registry, tmp_path):
    import vista

    task = registry.task("bar_height")
    short = list(task.load("train", seed=1000, limit=3))
    trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path, grpo_args="{generation_kwargs: {do_sample: "
                                      "false}}")
    words = vista.Example(id="long", task="bar_height", images=short[0].images, answer="3",
                          question=short[0].question + " Think hard." * 6, answer_type="integer",
                          metadata=short[0].metadata)
    too_long = vista.Example(id="too-long", task="bar_height", images=short[0].images, answer="3",
                             question=short[0].question + " Think hard." * 60, answer_type="integer",
                             metadata=short[0].metadata)
    room = 8
    rollout.codec.max_length = len(rollout.start(words).prompt_ids) + room
    assert rollout.codec.max_length - len(rollout.start(short[0]).prompt_ids) > 2 * 16  # room for two turns
    alone = rollout.play(short, trainer)
    beside = rollout.play(short[:2] + [words, too_long], trainer)
    assert [e.completion_ids for e in alone[:2]] == [e.completion_ids for e in beside[:2]]
    assert all(sum(e.env_mask) > room for e in alone[:2])
    long, unplayable = beside[2:]
    assert 0 < sum(long.env_mask) <= room and long.trajectory.metadata["context_full"]
    assert long.reward is None and unplayable.reward is None and not unplayable.completion_ids  # both unscored
    out = rollout(["[vista example 0] x"], trainer)
    assert len(out["completion_ids"][0]) >= 1


def test_grpo_resumes_from_its_last_checkpoint(policy_dir, registry, tmp_path):
    first, _, _ = trainer_for(policy_dir, registry, tmp_path, grpo_steps=1)
    first.train()
    checkpoint = last_checkpoint(tmp_path / "grpo")
    assert checkpoint.endswith("checkpoint-1")
    saved = {k: v.clone() for k, v in trained_model(first).state_dict().items()}

    second, _, records = trainer_for(policy_dir, registry, tmp_path, grpo_steps=2)
    restored = {}
    second.add_callback(type("Peek", (__import__("transformers").TrainerCallback,), {
        "on_train_begin": lambda self, args, state, control, model=None, **kw: restored.update(
            {k: v.clone() for k, v in model.state_dict().items()})})())
    second.train(resume_from_checkpoint=checkpoint)
    assert second.state.global_step == 2 and [r["step"] for r in records if "reward" in r] == [2]
    assert all(torch.equal(saved[k], restored[k]) for k in saved)


def test_lora_grpo_trains_only_the_adapters_and_merges_them(policy_dir, registry, tmp_path):
    from peft import PeftModel

    base = {k: v.clone() for k, v in load(policy_dir)[0].state_dict().items()}
    trainer, _, records = trainer_for(policy_dir, registry, tmp_path, use_peft=True, lora_r=4, lora_alpha=8,
                                      grpo_learning_rate=5e-2, grpo_steps=2)
    assert isinstance(trainer.model, PeftModel) and trainer.ref_model is None
    trainable = {n for n, p in trainer.model.named_parameters() if p.requires_grad}
    assert trainable and all("lora_" in n for n in trainable)
    trainer.train()
    steps = [r for r in records if "reward" in r]
    assert steps[-1]["kl"] > 0  # the reference: the adapters switched off
    merged = trained_model(trainer)
    assert not isinstance(merged, PeftModel) and set(merged.state_dict()) == set(base)
    assert any(not torch.equal(base[k], v) for k, v in merged.state_dict().items())


class RecordingEngine:
    """TRL's `VLLMGeneration` interface (vLLM needs a CUDA machine): records what it is sent, answers each prompt
    with fixed ids and logprobs, as vLLM's top-1 lists."""

    mode = "server"  # TRL's client places image features at the runs of image tokens: the ids go as they are

    def __init__(self, reply, max_completion_length=16):
        self.reply, self.max_completion_length, self.calls = reply, max_completion_length, []

    def generate(self, prompts, images, num_generations):
        self.calls.append((prompts, images, num_generations, self.max_completion_length))
        ids = self.reply[:self.max_completion_length]
        return prompts, [ids for _ in prompts], [[[-0.5]] * len(ids) for _ in prompts], None


def test_vllm_server_turns_are_the_episodes_ids_and_images_cut_to_each_budget(policy_dir, registry, tmp_path):
    """Server mode's glue (vLLM's GPU build only; colocate runs for real in test_vllm.py)."""
    from types import SimpleNamespace

    _, rollout, _ = trainer_for(policy_dir, registry, tmp_path)
    tokenizer = rollout.codec.tokenizer
    reply = tokenizer("<answer>3</answer>")["input_ids"] + [tokenizer.convert_tokens_to_ids(IM_END)] + [5, 6]
    engine = RecordingEngine(reply)
    trainer = SimpleNamespace(vllm_generation=engine, eos_token_ids=[tokenizer.convert_tokens_to_ids(IM_END)],
                              processing_class=rollout.codec.processor)
    episodes = [rollout.start(e) for e in rollout.examples[:2]]
    turns = vllm_generate(trainer, episodes, [30, 3])
    [(prompts, images, n, budget)] = engine.calls
    assert prompts == [e.ids for e in episodes] and n == 1 and budget == 30
    assert images == [e.images for e in episodes] and engine.max_completion_length == 16  # restored
    assert turns.ids == [reply[:-2], reply[:3]] and turns.logprobs[1] == [-0.5] * 3


def torchrun(root, mode: str, processes: int = 2, environment: dict[str, str] | None = None) -> None:
    """Run ddp_grpo_worker.py in ``mode`` as CPU processes (gloo) on loopback, with ``environment`` added to
    theirs (accelerate's settings, as `accelerate launch` passes them)."""
    import os
    import socket
    import subprocess
    import sys
    from pathlib import Path

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    worker = Path(__file__).parent / "ddp_grpo_worker.py"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(processes), "--master_addr",
               "127.0.0.1", "--master_port", str(port), str(worker), str(root), mode]
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(environment or {})}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if done.returncode and "terminate called without an active exception" in done.stderr:
        # A declared flaky rerun: seen twice in full-suite runs on the shared CI machine (never alone), a gloo worker
        # thread aborts one process (SIGABRT, no Python error, "terminate called without an active exception"); the
        # cause is not known. One more try, for this failure only.
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]


@pytest.mark.slow  # two torchrun processes: 28 s on 2 shared cores
def test_two_processes_take_the_step_one_process_takes(policy_dir, tmp_path):
    """The same episodes (a scripted policy) in one process, or split over two under torchrun: the same averaged
    gradient before the optimiser step (TRL normalises by the step's tokens over every process), and a step taken."""
    root = policy_dir.parent
    torchrun(root, "scripted", processes=1)
    torchrun(root, "scripted", processes=2)
    one, two = torch.load(root / "grads-1.pt"), torch.load(root / "grads-2.pt")
    assert set(one) == set(two) and any(g.abs().sum() > 0 for g in one.values())
    for name in one:
        assert torch.allclose(one[name], two[name], rtol=1e-4, atol=1e-7), name
    # and the step was taken with it
    start = load(policy_dir)[0].state_dict()
    after_one, after_two = (load(root / "run" / "policies" / name)[0].state_dict() for name in ("1", "2"))
    moved = [k for k in after_one if not torch.equal(after_one[k], start[k])]
    assert moved and all(not torch.equal(after_two[k], start[k]) for k in moved)


@pytest.mark.slow  # two torchrun processes: 21 s
def test_two_processes_generate_in_lockstep_where_weights_are_sharded(policy_dir):
    """Sharded weights (FSDP, DeepSpeed, vLLM tensor parallelism) are gathered collectively, so every process must
    generate as often as the busiest: the one whose episodes ended keeps generating one throw-away token."""
    root = policy_dir.parent
    torchrun(root, "lockstep")
    busy, idle = ((root / f"calls-{rank}.txt").read_text().split() for rank in (0, 1))
    assert len(busy) == len(idle) >= 2  # as many turns as the short episodes took; the long ones ended after one
    assert set(busy) == {"2"} and idle == ["2"] + ["1"] * (len(idle) - 1)


@pytest.mark.slow  # two torchrun processes: 25 s
def test_two_process_lora_recipe_runs_each_stage_where_it_belongs(tmp_path):
    """`vista-train`'s recipe under torchrun with LoRA: synthesis, initialisation and evaluation once (main
    process), SFT and GRPO on both; the stages' files are whole and written once."""
    torchrun(tmp_path, "pipeline")
    run = tmp_path / "run"
    stages = json.loads((run / "stages.json").read_text())
    assert set(stages) == {"synthesize", "init", "sft", "grpo", "evaluate"}
    assert stages["synthesize"]["played"] == 8 and stages["grpo"]["steps"] == 1
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    grpo = [r for r in records if r["stage"] == "grpo" and "reward" in r]
    assert len(grpo) == 1 and "accuracy" in grpo[0] and "kl" in grpo[0]
    assert len([r for r in records if r["stage"] == "evaluate" and "policy" in r]) == 3  # untrained, bc, bc+grpo
    assert len((run / "experts" / "played" / "trajectories.jsonl").read_text().splitlines()) == 8


def test_unscored_episodes_stay_out_of_the_training_metrics():
    """Episodes whose context filled up (reward None) are left out of the logged rates, and counted beside them."""
    import vista
    from vista_trainer.grpo import episode_reward_function

    def trajectory(answer):
        return vista.Trajectory(id=answer, task="t", example_id=answer, ground_truth="3", final_answer=answer,
                                correct=answer == "3")

    logged = {}
    rewards = episode_reward_function("brevity")(
        prompts=[""] * 4, completions=[""] * 4, episode_reward=[1.0, None, None, 0.0],
        trajectory=[trajectory("3"), trajectory("x"), trajectory("y"), trajectory("4")],
        log_metric=logged.__setitem__)
    assert rewards == [1.0, None, None, 0.0]
    assert logged["accuracy"] == 0.5 and logged["unscored_rate"] == 0.5



def test_steps_without_a_learning_signal_are_named_once_with_what_to_change(policy_dir, registry, tmp_path, caplog):
    trainer, _, records = trainer_for(policy_dir, registry, tmp_path, grpo_steps=1)
    trainer.train()
    steps = [r for r in records if "reward" in r]
    assert steps and "frac_reward_zero_std" in steps[0]  # the entry the watch reads is in TRL's real log

    def log(step, frac, accuracy=0.0):
        trainer.state.global_step = step
        trainer.callback_handler.on_log(trainer.args, trainer.state, trainer.control, {
            "frac_reward_zero_std": frac, "reward": -0.25, "tool_calls_per_episode": 0.0, "accuracy": accuracy})

    with caplog.at_level("WARNING", logger="vista_trainer.grpo"):
        for step in range(2, 6):
            log(step, 1.0)
        assert "no learning signal" not in caplog.text  # four silent steps: patience is five
        log(6, 1.0)
        log(7, 1.0)
        warned = [r.getMessage() for r in caplog.records if "no learning signal" in r.getMessage()]
        assert len(warned) == 1 and "steps 2-6" in warned[0] and "mean -0.25" in warned[0]
        assert "call a tool 0.00 times" in warned[0] and "--temperature" in warned[0]
        log(8, 0.5)
        assert "step 8: a learning signal again (50% of groups had equal rewards) after 6 steps" in caplog.text
        for step in range(9, 14):  # a learnt task: every group right
            log(step, 1.0, accuracy=1.0)
        warned = [r.getMessage() for r in caplog.records if "no learning signal" in r.getMessage()]
        assert len(warned) == 2 and "steps 9-13" in warned[1] and "--difficulty" in warned[1]
