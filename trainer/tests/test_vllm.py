"""vLLM's CPU build as the rollout engine (TRL's colocate mode), on tiny random-weight policies saved to disk: what
the loss sees is what vLLM sampled, at vLLM's logprobs, before and after a weight sync; `vista-train --use_vllm`
runs end to end. Run in the environment `make test-vllm` builds (vllm-cpu beside the trainer); skipped elsewhere."""

import importlib.util
import json
import os
import subprocess
import sys

import pytest
import torch

pytestmark = [pytest.mark.vllm, pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                                    reason="vLLM is not installed here: make test-vllm")]

os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")  # GiB of KV cache: tiny models, short episodes
os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", f"0-{max(0, (os.cpu_count() or 1) - 1)}")

from test_grpo import LossInputs, episodes_of, scripted_tool_turns, trainer_for  # noqa: E402
from vista_trainer.checkpoints import save_policy  # noqa: E402
from vista_trainer.codec import IM_END  # noqa: E402
from vista_trainer.families import FAMILIES  # noqa: E402
from vista_trainer.generation import Turns, collapse_image_runs, placeholder_ids, vllm_generate  # noqa: E402
from vista_trainer.tiny import train_tokenizer  # noqa: E402

from conftest import policy_runs, save_family_policy  # noqa: E402

ENV = {"tools": ["measure_bar", "crop_bar"], "max_turns": 2, "reward": "brevity"}


@pytest.fixture
def text_policy(experts, tmp_path):
    """A tiny Qwen2 causal LM (random weights) with a tokenizer trained on the experts' text."""
    from transformers import Qwen2Config, Qwen2ForCausalLM

    corpus = [p["text"] for r in experts for m in r["messages"] for p in m["content"] if p["type"] == "text"]
    tokenizer = train_tokenizer(corpus, 400)
    config = Qwen2Config(vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=1,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=4096,
                         tie_word_embeddings=True, eos_token_id=tokenizer.eos_token_id,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=None)
    torch.manual_seed(0)
    model = Qwen2ForCausalLM(config)
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    save_policy(model, tokenizer, tmp_path / "text")
    return tmp_path / "text"


def crop_then_sample():
    """The first turn calls ``crop_bar`` (a tool that returns an image: scripted, as a random policy would never
    write the call); every later turn is vLLM's, its prompt holding the question's image and the crop. Records
    each vLLM turn: the episode, the ids and logprobs vLLM returned up to an image placeholder, where the episode
    cuts the turn (vLLM does not suppress one; a random policy samples it now and then)."""
    scripted, _ = scripted_tool_turns()
    sampled = []

    def generate(trainer, episodes, budgets):
        first = [i for i, e in enumerate(episodes) if e.env.turn == 0]
        later = [i for i, e in enumerate(episodes) if e.env.turn > 0]
        ids, logprobs = [None] * len(episodes), [None] * len(episodes)
        if first:
            out = scripted(trainer, [episodes[i] for i in first], [budgets[i] for i in first])
            for i, row, lps in zip(first, out.ids, out.logprobs):
                ids[i], logprobs[i] = row, lps
        if later:
            out = vllm_generate(trainer, [episodes[i] for i in later], [budgets[i] for i in later])
            placeholders = placeholder_ids(trainer.processing_class)
            for i, row, lps in zip(later, out.ids, out.logprobs):
                ids[i], logprobs[i] = row, lps
                kept = next((k for k, t in enumerate(row) if t in placeholders), len(row))
                sampled.append((episodes[i], row[:kept], lps[:kept]))
        return Turns(ids, logprobs)

    return generate, sampled


def check_on_policy(trainer, rollout, seen, sampled, steps: int) -> None:
    """Every episode's completion is what the loss saw; in it, each vLLM turn's ids where they were sampled, and the
    policy's logprobs there (at the weights of that step, the sync's after the first) equal vLLM's within 1e-4."""
    rows = list(seen.rows())
    episodes = list(episodes_of(rollout))
    assert len(rows) == len(episodes) == 4 * steps
    compared = 0
    for episode in episodes:
        row = next(r for r in rows if r["prompt"] == episode["prompt_ids"] and r["completion"] ==
                   episode["completion_ids"])
        completion, logprobs = episode["completion_ids"], torch.tensor(episode["logprobs"])
        if sampled is None:  # every policy token is vLLM's: the runs of env_mask 1
            turns = policy_runs(completion, episode["env_mask"], episode["logprobs"])
        else:
            turns = [(ids, lps) for e, ids, lps in sampled if e.trajectory is episode["trajectory"]]
        start = 0
        for ids, lps in turns:
            if not ids:
                continue
            start = next(i for i in range(start, len(completion)) if completion[i:i + len(ids)] == ids)
            span = slice(start, start + len(ids))
            assert all(episode["env_mask"][span]) and torch.allclose(logprobs[span], torch.tensor(lps))
            gap = (row["logprobs"][span] - logprobs[span]).abs().max()
            assert gap < 1e-4, f"vLLM's logprobs differ from the trainer's by {gap:.2e}"
            compared += len(ids)
            start += len(ids)
    assert compared >= 4 * steps


@pytest.fixture(params=[name for name, family in FAMILIES.items() if family.vllm])
def vl_family_dir(request, experts, tmp_path):
    return save_family_policy(request.param, experts, tmp_path / request.param)


def test_vl_episodes_with_tool_images_are_trained_on_what_vllm_sampled_before_and_after_a_sync(vl_family_dir,
                                                                                                 registry, tmp_path):
    """Every family vLLM's CPU build runs (`Family.vllm`)."""
    policy_dir = vl_family_dir
    generate, sampled = crop_then_sample()
    trainer, rollout, records = trainer_for(policy_dir, registry, tmp_path, generate=generate, env=ENV,
                                            model_name_or_path=str(policy_dir), use_vllm=True, grpo_steps=2,
                                            grpo_learning_rate=3e-2, max_new_tokens=12, max_length=4096,
                                            # the scripted turns have no sampling logprobs to correct with
                                            vllm_importance_sampling_correction=False)
    assert trainer.vllm_generation.llm.llm_engine.model_config.dtype == torch.float32
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    seen = LossInputs(trainer.model)
    trainer.train()
    check_on_policy(trainer, rollout, seen, sampled, steps=2)
    image = trainer.processing_class.image_token_id
    second = [e for e, ids, _ in sampled]
    assert second and all(len(e.images) == 2 for e in second)  # the question's image and the crop
    assert all(collapse_image_runs(e.prompt_ids, image).count(image) == 1 for e in second)
    moved = [k for k, v in trainer.model.state_dict().items() if not torch.equal(v, start[k])]
    assert moved  # the second step sampled from weights that had changed
    assert [r["step"] for r in records if "loss" in r] == [1, 2]


@pytest.mark.parametrize("engine,lora", [("streaming", False), ("streaming", True), ("batched", False)])
def test_text_episodes_are_trained_on_what_vllm_sampled_before_and_after_a_sync(text_policy, registry, tmp_path,
                                                                                 engine, lora):
    """Streaming: each episode's turns submitted on their own (`VllmStream`, the default in colocate mode);
    batched: one `vllm_generate` call per turn. With LoRA, the sync sends the merged weights (TRL merges the
    adapters, vista's CPU sync reloads them)."""
    trainer, rollout, records = trainer_for(text_policy, registry, tmp_path, generate=None, env=ENV, use_vllm=True,
                                      model_name_or_path=str(text_policy), use_peft=lora, lora_r=4, lora_alpha=8,
                                      grpo_steps=2, grpo_learning_rate=3e-2, max_new_tokens=12, max_length=4096)
    sampled = None
    if engine == "batched":
        sampled = []

        def recording(trainer, episodes, budgets):
            out = vllm_generate(trainer, episodes, budgets)
            sampled.extend(zip(episodes, out.ids, out.logprobs))
            return out

        rollout.generate = recording
    start = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    seen = LossInputs(trainer.model)
    trainer.train()
    check_on_policy(trainer, rollout, seen, sampled, steps=2)
    assert rollout.plays == (2 if engine == "streaming" else 0)  # batches played request by request
    assert any(not torch.equal(v, start[k]) for k, v in trainer.model.state_dict().items())  # step 2 synced news
    # and TRL's own measure of the gap, over every sampled token of both steps
    gaps = [r["sampling/sampling_logp_difference/max"] for r in records if "loss" in r]
    assert len(gaps) == 2 and max(gaps) < 1e-4


def clean_env() -> dict:
    """This process's environment without the launcher variables TRL's colocate engine set in it (a new run is
    one process of its own)."""
    launcher = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")
    return {k: v for k, v in os.environ.items() if k not in launcher}


def test_vista_train_with_use_vllm_trains_two_steps_and_saves_a_policy(policy_dir, tmp_path):
    """The user's command on a saved checkpoint: synthesis, BC, 2 GRPO steps sampled by vLLM (colocate), the saved
    policy evaluated."""
    run = tmp_path / "run"
    command = [sys.executable, "-m", "vista_trainer.cli", "--model_name_or_path", str(policy_dir), "--use_vllm",
               "--run_dir", str(run), "--tasks", "shape_count", "--expert_episodes", "8", "--sft_epochs", "1",
               "--grpo_steps", "2", "--num_generations", "2", "--grpo_batch_size", "2",
               "--grpo_gradient_accumulation", "1", "--eval_episodes", "2", "--max_new_tokens", "16",
               "--max_length", "1024", "--save_steps", "2"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900, env=clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    stages = json.loads((run / "stages.json").read_text())
    assert stages["grpo"]["steps"] == 2 and (run / "policies" / "grpo" / "config.json").is_file()
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records if r["stage"] == "grpo" and "loss" in r] == [1, 2]
    assert "bc+grpo" in stages["evaluate"]


def test_server_mode_on_the_cpu_build_is_refused_in_one_line_before_any_work(policy_dir, tmp_path):
    command = [sys.executable, "-m", "vista_trainer.cli", "--model_name_or_path", str(policy_dir), "--use_vllm",
               "--vllm_mode", "server", "--vllm_server_base_url", "http://127.0.0.1:1", "--run_dir",
               str(tmp_path / "run")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, env=clean_env())
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "needs vLLM's GPU build" in done.stderr and "--vllm_mode colocate" in done.stderr
    assert not (tmp_path / "run").exists()


def test_a_turn_is_cut_at_its_budget_and_its_end_of_turn(policy_dir, registry, tmp_path):
    """Budgets per row on the real engine: no row longer than its budget, none past its first <|im_end|>."""
    trainer, rollout, _ = trainer_for(policy_dir, registry, tmp_path, env=ENV, use_vllm=True, max_new_tokens=12,
                                      model_name_or_path=str(policy_dir))
    episodes = [rollout.start(e) for e in rollout.examples[:3]]
    turns = vllm_generate(trainer, episodes, [12, 3, 1])
    im_end = trainer.processing_class.tokenizer.convert_tokens_to_ids(IM_END)
    assert [len(t) <= b for t, b in zip(turns.ids, [12, 3, 1])] == [True] * 3
    assert all(im_end not in t[:-1] for t in turns.ids)
    assert [len(t) for t in turns.ids] == [len(lp) for lp in turns.logprobs]
