import torch
from vista_trainer.checkpoints import trained_model
from vista_trainer.config import VistaTrainConfig
from vista_trainer.sft import PolicyTokenCollator, encode_records, run_sft
from vista_trainer.trl_setup import lora_config, sft_args


def test_loss_is_on_the_policys_tokens_only(tiny, experts):
    model, codec = tiny
    tokenizer = codec.tokenizer
    record = experts[0]
    [encoded] = encode_records(codec, [record])
    batch = PolicyTokenCollator([encoded], tokenizer.pad_token_id)([{"index": 0}])
    ids, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    trained = [i for i, label in zip(ids, labels) if label != -100]
    assert all(label in (-100, i) for i, label in zip(ids, labels))
    # exactly the assistant turns, each closed by <|im_end|>
    turns = [m["content"][0]["text"] for m in record["messages"] if m["role"] == "assistant"]
    assert len(turns) == 2
    expected = []
    for turn in turns:
        expected += tokenizer(turn)["input_ids"] + [tokenizer.convert_tokens_to_ids("<|im_end|>")]
    assert trained == expected
    # the tool response, the question, the system prompt and the image tokens are all masked
    response = next(p["text"] for m in record["messages"] if m["role"] == "user" for p in m["content"]
                    if p["type"] == "text" and "<tool_response>" in p["text"])
    response_ids = tokenizer(response)["input_ids"]
    start = next(k for k in range(len(ids)) if ids[k:k + len(response_ids)] == response_ids)
    assert all(label == -100 for label in labels[start:start + len(response_ids)])
    image_token = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    assert image_token in ids and all(label == -100 for i, label in zip(ids, labels) if i == image_token)
    assert batch["pixel_values"].shape[0] == int(batch["image_grid_thw"].prod(dim=1).sum())


def test_sft_trainer_lowers_the_loss_on_expert_turns(tiny, experts, tmp_path):
    model, codec = tiny
    before = [p.detach().clone() for p in model.parameters()]
    args = sft_args(VistaTrainConfig(run_dir=str(tmp_path), sft_epochs=3, sft_batch_size=4, sft_learning_rate=3e-3),
                    str(tmp_path / "sft"))
    args.logging_steps = 1
    args.disable_tqdm = True
    summary, trainer = run_sft(model, codec, experts, args)
    trained = trained_model(trainer)
    assert trained is model
    assert summary["steps"] == 6 and summary["loss_last"] < summary["loss_first"]
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_lora_sft_merges_its_adapters_into_a_plain_model(tiny, experts, tmp_path):
    from peft import PeftModel

    model, codec = tiny
    before = {k: v.clone() for k, v in model.state_dict().items()}
    config = VistaTrainConfig(run_dir=str(tmp_path), sft_epochs=2, sft_batch_size=4, sft_learning_rate=1e-2,
                              use_peft=True, lora_r=4, lora_alpha=8, lora_target_modules="q_proj,v_proj")
    args = sft_args(config, str(tmp_path / "sft"))
    args.disable_tqdm = True
    summary, trainer = run_sft(model, codec, experts, args, peft_config=lora_config(config))
    trained = trained_model(trainer)
    assert not isinstance(trained, PeftModel) and set(trained.state_dict()) == set(before)
    changed = {k for k, v in trained.state_dict().items() if not torch.equal(before[k], v)}
    assert changed and all(k.endswith(("q_proj.weight", "v_proj.weight")) for k in changed)
