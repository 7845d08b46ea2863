import sys

import pytest

from vista_tools_perception import easyocr_compat


def test_stand_in_vgg16_bn_matches_craft_weights():
    torch = pytest.importorskip("torch")
    easyocr_models = pytest.importorskip("easyocr_en_models")
    features = easyocr_compat._vgg16_bn(weights=None).features
    state = torch.load(f"{easyocr_models.model_dir()}/craft_mlt_25k.pth", map_location="cpu", weights_only=False)
    # CRAFT slices VGG layers 0-38 into basenet.slice1..4, keeping each layer's index as its name
    for index, layer in enumerate(features[:39]):
        if isinstance(layer, (torch.nn.Conv2d, torch.nn.BatchNorm2d)):
            slice_number = 1 + sum(index >= start for start in (12, 19, 29))
            key = f"module.basenet.slice{slice_number}.{index}.weight"
            assert tuple(state[key].shape) == tuple(layer.weight.shape), key


def test_to_tensor_matches_torchvision_semantics():
    pytest.importorskip("torch")
    import numpy as np
    from PIL import Image

    gray = easyocr_compat._ToTensor()(Image.fromarray(np.full((3, 5), 255, np.uint8)))
    assert tuple(gray.shape) == (1, 3, 5) and float(gray.max()) == 1.0
    colour = easyocr_compat._ToTensor()(np.zeros((3, 5, 3), np.uint8))
    assert tuple(colour.shape) == (3, 3, 5)


def test_easyocr_imports_and_the_stand_in_is_not_left_behind():
    pytest.importorskip("easyocr_en_models")
    module = easyocr_compat.import_easyocr()
    assert hasattr(module, "Reader")
    stand_in = sys.modules.get("torchvision")
    assert stand_in is None or hasattr(stand_in, "__file__")  # absent, or the real torchvision
