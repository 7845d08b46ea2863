"""InternVL3's image layout through the same codec, collation, generation and save/load as Qwen2.5-VL, on a tiny
InternVL (random weights) with a tokenizer carrying InternVL's image tokens."""

import torch
from PIL import Image
from vista_trainer import families
from vista_trainer.checkpoints import load_policy, save_policy
from vista_trainer.codec import ChatCodec, collate
from vista_trainer.policy import ModelPolicy
from vista_trainer.tiny import INTERNVL_TOKENS, train_tokenizer


def tiny_internvl(tmp_path):
    tokenizer = train_tokenizer(["What is the height of the red bar? <think>Measure it.</think><answer>4</answer>"]
                                * 20, 300, INTERNVL_TOKENS)
    return families.tiny_internvl(tokenizer)


def conversation():
    images = [Image.new("RGB", (60, 30), "red"), Image.new("RGB", (20, 20), "blue")]
    messages = [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": "What is the height?"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "<think>Measure it.</think>"}]},
                {"role": "user", "content": [{"type": "text", "text": "<tool_response>4</tool_response>"},
                                             {"type": "image"}]},
                {"role": "assistant", "content": [{"type": "text", "text": "<answer>4</answer>"}]}]
    return messages, images


def test_internvl_images_become_tiles_between_img_tokens_and_train_and_generate(tmp_path):
    model, processor = tiny_internvl(tmp_path)
    codec = ChatCodec(processor, 512)
    messages, images = conversation()
    encoded = codec.encode(messages, images)
    tokenizer = processor.tokenizer
    ids = encoded.input_ids
    starts = [i for i, t in enumerate(ids) if t == tokenizer.start_image_token_id]
    assert len(starts) == 2 and ids.count(tokenizer.end_image_token_id) == 2
    tiles = encoded.pixel_values.shape[0]
    assert ids.count(tokenizer.context_image_token_id) == tiles and encoded.image_grid_thw is None
    assert all(encoded.policy_mask[i] == 0 for i in starts)  # image tokens are never trained on
    trained = tokenizer.decode([t for t, m in zip(ids, encoded.policy_mask) if m])
    assert trained == "<think>Measure it.</think><|im_end|><answer>4</answer><|im_end|>"

    batch = collate([encoded, encoded], tokenizer.pad_token_id)
    batch.pop("policy_mask")
    loss = model(**batch).loss
    assert torch.isfinite(loss)
    loss.backward()
    assert model.model.vision_tower.embeddings.patch_embeddings.projection.weight.grad.abs().sum() > 0

    observation = {"messages": [{"role": "user", "content": [{"type": "image", "image": "a"},
                                                             {"type": "text", "text": "What is the height?"}]}],
                   "images": {"a": images[0]}}
    [turn] = ModelPolicy(model, codec, max_new_tokens=5).generate([observation])
    assert isinstance(turn, str)

    save_policy(model, processor, tmp_path / "policy")
    _, loaded = load_policy(tmp_path / "policy", min_pixels=0, max_pixels=0)
    assert ChatCodec(loaded, 512).encode(messages, images).input_ids == ids


def test_internvl_grpo_trains_on_a_batch_mixing_rows_with_and_without_images(tmp_path, registry):
    """TRL counts InternVL's tiles per row with its image processor: a row without an image must reach it as an
    empty list (None stops it), and each row's logprobs at step 1 are its sampling logprobs."""
    import vista
    from test_grpo import LossInputs, episodes_of, trainer_for
    from vista_trainer.generation import transformers_generate

    model, processor = tiny_internvl(tmp_path)
    save_policy(model, processor, tmp_path / "policy")
    with_image = next(iter(registry.task("bar_height").load("train", seed=1000, limit=1)))
    without = vista.Example(id="no-image", task="bar_height", images=[], question="How tall is a bar of 4 pixels?",
                            answer="4", answer_type="integer", metadata={"color": "red"})
    trainer, rollout, _ = trainer_for(tmp_path / "policy", registry, tmp_path / "run", examples=[with_image, without],
                                      generate=transformers_generate, env={"tools": [], "max_turns": 1,
                                                                           "reward": "brevity"},
                                      max_length=512)
    seen = LossInputs(trainer.model)
    trainer.train()
    episodes = list(episodes_of(rollout))
    assert {len(e["images"]) for e in episodes} == {0, 1}
    rows = list(seen.rows())
    for episode in episodes:
        row = next(r for r in rows if r["completion"] == episode["completion_ids"])
        policy = torch.tensor(episode["env_mask"]).bool()
        gap = (row["logprobs"][policy] - torch.tensor(episode["logprobs"])[policy]).abs().max()
        assert gap < 1e-4, gap
