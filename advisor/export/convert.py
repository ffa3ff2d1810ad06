"""PyTorch PhiNet -> TFLite (float or full-integer int8) and -> ONNX (float).

The TFLite route rebuilds the network in TensorFlow from the state_dict
(:mod:`advisor.export.tf_graph`) and runs ``tf.lite.TFLiteConverter`` on it: only
TensorFlow is needed (no onnx2tf, no tf-keras), and the graph is NHWC from the start.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.export.tflite_file import full_int8_problems, read_tflite

ONNX_OPSET = 17


def import_tensorflow():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
    except ImportError as err:
        raise AdvisorError(
            f"TensorFlow is not installed ({err}); install the export extra: "
            "pip install 'mcu-advisor[export]'"
        ) from None
    return tf


def to_nhwc(images: np.ndarray) -> np.ndarray:
    """(N, C, H, W) as PyTorch takes them -> (N, H, W, C) float32."""
    return np.ascontiguousarray(np.asarray(images, dtype=np.float32).transpose(0, 2, 3, 1))


def _check_images(images: np.ndarray, config: PhiNetConfig, what: str) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    expected = (config.in_channels, config.resolution, config.resolution)
    if images.ndim != 4 or images.shape[1:] != expected or len(images) == 0:
        raise AdvisorError(
            f"{what} must be a non-empty (N, {expected[0]}, {expected[1]}, "
            f"{expected[2]}) array (PyTorch layout), got shape {images.shape}"
        )
    return images


def to_tflite(
    config: PhiNetConfig,
    state_dict: Mapping[str, Any],
    calibration: np.ndarray | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> bytes:
    """Convert a PhiNet to a .tflite flatbuffer.

    With ``calibration`` (N, C, H, W float images, preprocessed exactly as in training) the
    model is full-integer int8: int8 weights (per channel), activations, input and output,
    checked to contain no TRANSPOSE, QUANTIZE or DEQUANTIZE op. Without it the model is
    float32 (used to check the rebuilt graph against PyTorch).

    ``ranges`` ({quantization point: (min, max)}, from
    :class:`~advisor.training.fake_quant.QuantizedPhiNet`) fixes every activation range
    (FakeQuant ops the converter honours) instead of the calibration images' min/max; the
    int8 graph has the same ops either way.
    """
    if ranges is not None and calibration is None:
        raise AdvisorError("activation ranges need calibration images (the int8 conversion)")
    from advisor.export.tf_graph import build_forward

    tf = import_tensorflow()
    forward = build_forward(config, state_dict, ranges)
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [forward.get_concrete_function()], forward
    )
    if calibration is not None:
        samples = to_nhwc(_check_images(calibration, config, "calibration images"))
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = lambda: ([sample[None]] for sample in samples)
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = converter.convert()
    if calibration is not None:
        problems = full_int8_problems(read_tflite(model))
        if problems:
            raise AdvisorError(
                "the converter did not produce a full-integer int8 graph: "
                + "; ".join(problems[:5])
            )
    return model


def to_onnx(model: Any, config: PhiNetConfig, path: str | Path) -> Path:
    """Export the float PyTorch model to ONNX (opset 17, TorchScript exporter), NCHW input."""
    import torch

    path = Path(path)
    dummy = torch.zeros(1, config.in_channels, config.resolution, config.resolution)
    model = model.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (dummy,),
            str(path),
            dynamo=False,
            opset_version=ONNX_OPSET,
            input_names=["input"],
            output_names=["logits"],
        )
    return path


def run_onnx(path: str | Path, images: np.ndarray) -> np.ndarray:
    """Outputs of an ONNX model for (N, C, H, W) float images, with onnxruntime on CPU."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return np.concatenate(
        [session.run(None, {name: image[None].astype(np.float32)})[0] for image in images]
    )
