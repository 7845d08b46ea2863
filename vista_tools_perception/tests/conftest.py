"""Fixtures: the real TabMWP tables (`vista.testing.real_data_dir`), and GroundingDINO / SAM built from tiny configs
with random weights, saved with their processors to a folder the tools load from, as they would load real weights."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from vista.testing import real_data_dir

TABMWP = real_data_dir() / "tabmwp"


class TabMWP:
    def __init__(self, root: Path):
        self.root = root
        self.problems: dict = json.loads((root / "problems_test1k.json").read_text())

    def table_image(self, pid: str) -> Path:
        return self.root / "tables" / f"{pid}.png"

    def sample(self, n: int, seed: int = 0) -> list[str]:
        ids = sorted(self.problems, key=int)
        random.Random(seed).shuffle(ids)
        return ids[:n]


@pytest.fixture(scope="session")
def tabmwp() -> TabMWP:
    if not (TABMWP / "problems_test1k.json").is_file():
        pytest.skip(f"TabMWP samples not found at {TABMWP} ($VISTA_DATA_DIR, else the shared data folder beside the "
                    "repository)")
    return TabMWP(TABMWP)


@pytest.fixture(scope="session")
def tiny_grounding_dino(tmp_path_factory) -> Path:
    import torch
    from transformers import (
        BertConfig,
        BertTokenizer,
        GroundingDinoConfig,
        GroundingDinoForObjectDetection,
        GroundingDinoProcessor,
        SwinConfig,
    )
    from transformers.models.grounding_dino.image_processing_pil_grounding_dino import GroundingDinoImageProcessorPil

    folder = tmp_path_factory.mktemp("grounding_dino")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "red", "blue", "cube", "sphere", "cat", "dog"]
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n")
    config = GroundingDinoConfig(
        backbone_config=SwinConfig(embed_dim=16, depths=[1, 1, 1, 1], num_heads=[1, 1, 1, 1], window_size=4,
                                   image_size=64, out_features=["stage2", "stage3", "stage4"]),
        text_config=BertConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                               intermediate_size=37, max_position_embeddings=64),
        d_model=32, encoder_layers=1, decoder_layers=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        encoder_attention_heads=2, decoder_attention_heads=2, num_queries=10, encoder_n_points=2,
        decoder_n_points=2, max_text_len=32)
    torch.manual_seed(0)
    GroundingDinoForObjectDetection(config).save_pretrained(folder)
    GroundingDinoProcessor(
        image_processor=GroundingDinoImageProcessorPil(size={"shortest_edge": 64, "longest_edge": 96}),
        tokenizer=BertTokenizer(str(folder / "vocab.txt"))).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_sam(tmp_path_factory) -> Path:
    import torch
    from transformers import (
        SamConfig,
        SamMaskDecoderConfig,
        SamModel,
        SamProcessor,
        SamPromptEncoderConfig,
        SamVisionConfig,
    )
    from transformers.models.sam.image_processing_pil_sam import SamImageProcessorPil

    folder = tmp_path_factory.mktemp("sam")
    config = SamConfig(
        vision_config=SamVisionConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, mlp_dim=64,
                                      image_size=64, patch_size=8, output_channels=16, global_attn_indexes=[1],
                                      window_size=4, num_pos_feats=8),
        prompt_encoder_config=SamPromptEncoderConfig(hidden_size=16, image_size=64, patch_size=8,
                                                     mask_input_channels=4),
        mask_decoder_config=SamMaskDecoderConfig(hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                                 mlp_dim=32, iou_head_hidden_dim=16))
    torch.manual_seed(0)
    SamModel(config).save_pretrained(folder)
    SamProcessor(image_processor=SamImageProcessorPil(
        size={"longest_edge": 64}, pad_size={"height": 64, "width": 64}, mask_size={"longest_edge": 16},
        mask_pad_size={"height": 16, "width": 16})).save_pretrained(folder)
    return folder
