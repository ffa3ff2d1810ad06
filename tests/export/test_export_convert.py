"""PyTorch PhiNet -> TFLite: the float graph equals PyTorch, the int8 graph is full-integer
NHWC with only TFLite Micro builtins; ONNX equals PyTorch too."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import images, make_phinet, torch_logits

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.export.convert import run_onnx, to_onnx, to_tflite
from advisor.export.tflite_file import full_int8_problems, read_tflite
from advisor.export.verify import FLOAT_TOLERANCE, float_max_abs_diff

# What the export may emit for a PhiNet; all are TFLite Micro builtins.
PHINET_OPS = {
    "ADD",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "FULLY_CONNECTED",
    "HARD_SWISH",
    "LOGISTIC",
    "MEAN",
    "MUL",
    "PAD",
}

VARIANTS = [
    pytest.param(dict(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24), id="even-R"),
    pytest.param(dict(alpha=0.5, beta=1.2, t0=3, num_layers=4, resolution=17), id="odd-R"),
    pytest.param(
        dict(alpha=0.2, beta=0.75, t0=5, num_layers=7, resolution=32, downsampling_layers=(4, 6)),
        id="N7-downsampling",
    ),
    pytest.param(
        dict(
            alpha=0.3,
            beta=1.0,
            t0=4,
            num_layers=3,
            resolution=16,
            h_swish=False,
            squeeze_excite=False,
            residuals=False,
        ),
        id="relu6-noSE-nores",
    ),
    pytest.param(
        dict(alpha=0.25, beta=1.0, t0=4, num_layers=4, resolution=20, num_classes=3, divisor=4),
        id="divisor4-3classes",
    ),
]


@pytest.mark.parametrize("overrides", VARIANTS)
def test_float_tflite_matches_pytorch(overrides):
    config = PhiNetConfig(**overrides)
    model = make_phinet(config, seed=3)
    batch = images(config, 4, seed=4)
    reference = torch_logits(model, batch)
    float_model = to_tflite(config, model.state_dict())
    assert float_max_abs_diff(float_model, batch, reference) < FLOAT_TOLERANCE
    assert read_tflite(float_model).inputs[0].shape == (1, config.resolution, config.resolution, 3)


def test_float_tflite_matches_micromind_reference():
    """The converter reads micromind 0.2.1's own state_dict, not only advisor's PhiNet."""
    from micromind_reference import reference_phinet

    from advisor.export.cost_calibration import randomize_batchnorm

    config = PhiNetConfig(alpha=0.25, beta=1.1, t0=5, num_layers=6, resolution=21)
    model = reference_phinet(config)
    randomize_batchnorm(model, seed=5)
    model.eval()
    batch = images(config, 4, seed=6)
    assert (
        float_max_abs_diff(to_tflite(config, model.state_dict()), batch, torch_logits(model, batch))
        < FLOAT_TOLERANCE
    )


def test_int8_graph_is_full_integer_nhwc_with_micro_builtins(exported):
    info = read_tflite(exported.int8)
    assert full_int8_problems(info) == []
    assert not {"TRANSPOSE", "QUANTIZE", "DEQUANTIZE"} & set(info.ops)
    assert set(info.ops) <= PHINET_OPS
    assert {"PAD", "ADD", "HARD_SWISH", "LOGISTIC", "MUL", "FULLY_CONNECTED"} <= set(info.ops)
    assert info.inputs[0].dtype == info.outputs[0].dtype == "INT8"
    assert info.inputs[0].shape == (1, 24, 24, 3)  # NHWC
    assert info.outputs[0].shape == (1, 10)
    weights = [t for t in info.tensors if t.dtype == "INT8" and len(t.scales) > 1]
    assert weights, "weights should be quantized per channel"


def test_onnx_matches_pytorch(exported, tmp_path):
    path = to_onnx(exported.model, exported.config, tmp_path / "phinet.onnx")
    outputs = run_onnx(path, exported.test_images[:4])
    assert np.abs(outputs - exported.test_logits[:4]).max() < FLOAT_TOLERANCE


def test_state_dict_of_another_depth_is_refused():
    config = PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=16)
    state_dict = make_phinet(config).state_dict()
    with pytest.raises(AdvisorError, match="num_layers=6"):
        to_tflite(PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=6, resolution=16), state_dict)
    with pytest.raises(AdvisorError, match="stem"):
        to_tflite(config, {k: v for k, v in state_dict.items() if not k.startswith("_layers.1.")})


def test_calibration_of_the_wrong_shape_is_refused(exported):
    with pytest.raises(AdvisorError, match=r"\(N, 3, 24, 24\)"):
        to_tflite(exported.config, exported.model.state_dict(), np.zeros((2, 3, 16, 16)))
