"""Import EasyOCR on machines where torchvision does not import.

EasyOCR needs exactly two things from torchvision: the VGG16-BN layer stack that CRAFT's detector is built on
(`torchvision.models.vgg16_bn(...).features`, its weights then come from craft_mlt_25k.pth) and
`torchvision.transforms.ToTensor` for the recogniser's input. The registry's torchvision wheels are CUDA builds
that fail to import next to a CPU torch, so when `import torchvision` fails, EasyOCR is imported against a minimal
stand-in that provides just those two, built on torch alone. The stand-in lives in `sys.modules` only while
EasyOCR's modules import (they keep their own references; the ones EasyOCR would import lazily, inside
`Reader()`, are imported up front), so nothing else in the process ever sees it.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager

# torchvision's configuration "D" with batch norm: the layer indices CRAFT slices (0-11, 12-18, 19-28, 29-38) and
# the state-dict keys of craft_mlt_25k.pth depend on this exact order.
_VGG16_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M")


def _vgg16_bn(weights=None, **_ignored):
    import torch.nn as nn

    if weights is not None:
        raise RuntimeError("the torchvision stand-in cannot load ImageNet weights; EasyOCR loads CRAFT's own")
    layers: list = []
    channels = 3
    for spec in _VGG16_CFG:
        if spec == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            layers += [nn.Conv2d(channels, spec, kernel_size=3, padding=1), nn.BatchNorm2d(spec), nn.ReLU(inplace=True)]
            channels = spec
    return types.SimpleNamespace(features=nn.Sequential(*layers))


class _ToTensor:
    """torchvision.transforms.ToTensor for what EasyOCR passes it: a PIL image or an HxW(xC) uint8 array."""

    def __call__(self, picture):
        import numpy as np
        import torch

        array = np.asarray(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        tensor = torch.from_numpy(array.transpose(2, 0, 1).copy())
        return tensor.float().div(255) if array.dtype == np.uint8 else tensor.float()


def _stand_in() -> dict[str, types.ModuleType]:
    root = types.ModuleType("torchvision")
    root.__version__ = "0.13.0"  # EasyOCR picks the `weights=` call signature for versions >= 0.13
    models = types.ModuleType("torchvision.models")
    models.vgg16_bn = _vgg16_bn
    models.VGG16_BN_Weights = types.SimpleNamespace(DEFAULT=None)
    transforms = types.ModuleType("torchvision.transforms")
    transforms.ToTensor = _ToTensor
    root.models, root.transforms = models, transforms
    return {"torchvision": root, "torchvision.models": models, "torchvision.transforms": transforms}


def _torchvision_imports() -> bool:
    try:
        import torchvision  # noqa: F401
    except Exception:  # a CUDA build next to CPU torch fails with OSError, RuntimeError or ImportError alike
        for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
            del sys.modules[name]
        return False
    return True


@contextmanager
def _temporarily(modules: dict[str, types.ModuleType]) -> Iterator[None]:
    sys.modules.update(modules)
    try:
        yield
    finally:
        for name in modules:
            sys.modules.pop(name, None)


# Every EasyOCR module that imports torchvision, directly or through another, including those `Reader()` imports late.
_EASYOCR_MODULES = ("easyocr", "easyocr.detection", "easyocr.recognition", "easyocr.model.model")


def import_easyocr() -> types.ModuleType:
    """The `easyocr` module, imported against the real torchvision when it works and the stand-in otherwise."""
    if "easyocr" in sys.modules or _torchvision_imports():
        return _import_all()
    with _temporarily(_stand_in()):
        return _import_all()


def _import_all() -> types.ModuleType:
    for name in _EASYOCR_MODULES:
        importlib.import_module(name)
    return sys.modules["easyocr"]
