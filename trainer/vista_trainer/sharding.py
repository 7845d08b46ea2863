"""GRPO's policy sharded over processes with PyTorch FSDP (``fully_shard``, FSDP2): parameters, gradients and
optimiser state are split N ways, so a model whose full fine-tuning does not fit one device trains on several.

Each transformer block (the classes the model lists in ``_no_split_modules``: Qwen2.5-VL's decoder layers and
vision blocks, InternVL's likewise) is one unit, the rest of the model the root unit. Collectives need every
process to run the same forward and backward passes in the same order; GRPO's training passes are equal in number
on every process (each plays the same number of episodes, one sequence each), but rollouts are not (episodes end
at different turns, turns at different lengths). So rollouts run inside `gathered`: every unit is gathered once and
kept whole, and each process then generates on its own with no collective at all; the units are split again
before the loss. Generation thus holds the whole model once per device (in the training dtype), while gradients
and the optimiser state stay split.

Checkpoints hold the whole model and optimiser state in the layout a single process writes (``pytorch_model.bin``
and ``optimizer.bin``, as accelerate names them, the optimiser's state keyed by the position of each trained
parameter), so a sharded run resumes unsharded, with a different number of processes, and the other way round.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

MODEL_FILE = "pytorch_model.bin"  # the policy's weights in a checkpoint, as accelerate names them (pickled tensors)
OPTIMIZER_FILE = "optimizer.bin"  # the optimiser's state, likewise


def block_classes(model: nn.Module) -> set[str]:
    """The class names of the model's transformer blocks (``_no_split_modules`` of every pretrained model in it:
    a peft model wraps one)."""
    names: set[str] = set()
    for module in model.modules():
        names.update(getattr(module, "_no_split_modules", None) or ())
    return names


def shard(model: nn.Module, frozen: bool = False) -> nn.Module:
    """Shard ``model`` in place over the default process group: each transformer block a unit, then the root.
    ``frozen`` (a model that never runs backward, the KL reference): the root is split again after each forward
    too, where FSDP would otherwise keep it whole until a backward that never comes."""
    import warnings

    from torch.distributed.fsdp import fully_shard

    # the model returns its logits as a view; GRPO only reads them out of place (log_softmax), which FSDP's
    # warning about in-place edits of a view does not concern
    warnings.filterwarnings("ignore", message=r"FSDP2-wrapped module .* returned a view tensor")
    classes = block_classes(model)
    blocks = [m for m in model.modules() if type(m).__name__ in classes]
    if not blocks:
        raise ValueError(f"cannot shard {type(model).__name__}: it names no transformer block classes "
                         "(_no_split_modules); train it unsharded, with --use_peft where memory is short")
    for block in blocks:
        fully_shard(block)
    fully_shard(model)
    # FSDP makes the first module to run forward the root; generation may call a block (the vision tower) before
    # the whole model's forward, so the root is settled now
    model._get_fsdp_state()._lazy_init()
    if frozen:
        model.set_reshard_after_forward(True, recurse=False)
    return model


@contextlib.contextmanager
def gathered(model: nn.Module) -> Iterator[nn.Module]:
    """Every unit gathered and kept whole until the block ends: forward passes then run on one process alone (HF
    generation must be told ``synced_gpus=False``, or it waits for the others after each turn)."""
    from torch.distributed.fsdp import FSDPModule

    units = [m for m in model.modules() if isinstance(m, FSDPModule)]
    for unit in units:
        unit.unshard()
        unit.set_reshard_after_forward(False, recurse=False)
    try:
        yield model
    finally:
        for unit in units:
            unit.reshard()
            # as fully_shard left them: blocks split after forward, the root kept whole until backward
            unit.set_reshard_after_forward(unit is not model, recurse=False)
        model.reset_iter_state()  # forget the rollouts' forward order: the loss's passes prefetch by their own


def _options(**kwargs):
    from torch.distributed.checkpoint.state_dict import StateDictOptions

    return StateDictOptions(full_state_dict=True, **kwargs)


def trained_names(model: nn.Module) -> list[str]:
    """Names of the trained parameters in the order the optimiser holds them."""
    return [name for name, p in model.named_parameters() if p.requires_grad]


def _rekey(optimizer_state: dict, key) -> dict:
    """An optimiser state dict with every parameter key mapped through ``key`` (position <-> name)."""
    return {"state": {key[k]: state for k, state in optimizer_state["state"].items()},
            "param_groups": [{**group, "params": [key[k] for k in group["params"]]}
                             for group in optimizer_state["param_groups"]]}


def full_state(model: nn.Module, optimizer: torch.optim.Optimizer | None = None) -> tuple[dict, dict | None]:
    """The whole model's weights and the optimiser's state as one process would hold them, on CPU, on the main
    process (empty elsewhere). Every process must call it."""
    from torch.distributed.checkpoint.state_dict import get_model_state_dict, get_optimizer_state_dict

    weights = get_model_state_dict(model, options=_options(cpu_offload=True))
    if optimizer is None:
        return weights, None
    by_name = get_optimizer_state_dict(model, optimizer, options=_options(cpu_offload=True))
    if not by_name:
        return weights, {}
    return weights, _rekey(by_name, {name: i for i, name in enumerate(trained_names(model))})


def load_full_state(model: nn.Module, optimizer: torch.optim.Optimizer, folder: Path, main: bool) -> None:
    """Load a checkpoint's whole weights and optimiser state (files in one process's layout) into the sharded model:
    the main process reads them and the others take their shards from it. Every process must call it."""
    from torch.distributed.checkpoint.state_dict import set_model_state_dict, set_optimizer_state_dict

    weights = torch.load(folder / MODEL_FILE, map_location="cpu", weights_only=True) if main else {}
    set_model_state_dict(model, weights, options=_options(broadcast_from_rank0=True))
    del weights
    plain = torch.load(folder / OPTIMIZER_FILE, map_location="cpu", weights_only=True) if main else {}
    by_name = {}
    if main:
        names = trained_names(model)
        if len(plain["param_groups"][0]["params"]) != len(names):
            raise ValueError(f"{folder / OPTIMIZER_FILE} holds the state of "
                             f"{len(plain['param_groups'][0]['params'])} parameters, this run trains {len(names)}: "
                             "resume with the same --use_peft / LoRA settings the checkpoint was written with")
        by_name = _rekey(plain, names)
    # strict=False: a parameter that never had a gradient (a block no step reached) has no state to restore
    set_optimizer_state_dict(model, optimizer, by_name, options=_options(broadcast_from_rank0=True, strict=False))


def plain_copy(model: nn.Module, weights: dict) -> nn.Module:
    """An unsharded model of ``model``'s architecture holding ``weights`` (a whole state dict), built without
    allocating a second set of random weights. With peft, the adapters come back as adapters."""
    config = getattr(model, "peft_config", None)
    base = model.get_base_model() if config is not None else model
    with torch.device("meta"):
        plain = type(base)(base.config)
    if config is not None:
        from peft import get_peft_model

        with torch.device("meta"):
            plain = get_peft_model(plain, config["default"])
    plain.load_state_dict(weights, assign=True)
    # buffers a state dict leaves out (rotary frequencies) are whole on every process: take them as they are
    for name, buffer in model.named_buffers():
        owner, _, leaf = name.rpartition(".")
        target = plain.get_submodule(owner) if owner else plain
        if leaf in target._buffers and target._buffers[leaf] is not None and target._buffers[leaf].is_meta:
            target._buffers[leaf] = buffer.detach().to("cpu").clone()
    leftover = [name for name, t in [*plain.named_parameters(), *plain.named_buffers()] if t.is_meta]
    if leftover:
        raise RuntimeError(f"the gathered weights miss {leftover[:3]}: the copy of the policy would be incomplete")
    if hasattr(plain, "tie_weights"):
        plain.tie_weights()
    if hasattr(base, "generation_config"):
        (plain.get_base_model() if config is not None else plain).generation_config = base.generation_config
    return plain
