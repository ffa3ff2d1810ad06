"""Proof that the exported model computes what the PyTorch model does.

Three runtimes are compared on the same images: PyTorch (float, the reference),
TensorFlow Lite's interpreter with its reference kernels, and TFLite Micro.
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass

import numpy as np

from advisor.export.convert import import_tensorflow, to_nhwc
from advisor.export.tflite_file import TensorInfo, read_tflite
from advisor.export.tflm import run_tflm

# The float TFLite graph must reproduce PyTorch to this max abs difference on the logits.
FLOAT_TOLERANCE = 1e-4


def quantize(values: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    """float -> int8 with a tensor's (per-tensor) scale and zero point."""
    q = np.round(np.asarray(values, dtype=np.float64) / tensor.scale) + tensor.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


def dequantize(values: np.ndarray, tensor: TensorInfo) -> np.ndarray:
    return (np.asarray(values, dtype=np.float64) - tensor.zero_point) * tensor.scale


def run_tflite(model: bytes, inputs: np.ndarray) -> np.ndarray:
    """Run (N, H, W, C) inputs one by one in tf.lite's interpreter with reference kernels."""
    tf = import_tensorflow()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(
            model_content=model,
            experimental_op_resolver_type=tf.lite.experimental.OpResolverType.BUILTIN_REF,
        )
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    outputs = []
    for sample in inputs:
        interpreter.set_tensor(input_index, sample[None])
        interpreter.invoke()
        outputs.append(interpreter.get_tensor(output_index)[0].copy())
    return np.stack(outputs)


def float_max_abs_diff(float_model: bytes, images: np.ndarray, torch_logits: np.ndarray) -> float:
    """Max abs difference between a float .tflite's logits and PyTorch's."""
    return float(np.abs(run_tflite(float_model, to_nhwc(images)) - torch_logits).max())


def top1(logits: np.ndarray) -> np.ndarray:
    return np.asarray(logits).reshape(len(logits), -1).argmax(axis=1)


@dataclass(frozen=True)
class Int8Verification:
    """Agreement of the int8 model across runtimes: TFLM ran all ``samples`` images,
    tf.lite's reference kernels the first ``reference_samples`` of them."""

    samples: int
    reference_samples: int
    tflm_tflite_equal_fraction: float  # int8 outputs bit-equal, TFLM vs tf.lite reference
    tflm_tflite_max_abs_diff: int  # in int8 steps
    tflm_torch_top1_agreement: float
    tflm_logits: np.ndarray
    float_top1: float | None = None  # accuracy of PyTorch, when labels are given
    int8_top1: float | None = None  # accuracy of the int8 model in TFLM

    def to_dict(self) -> dict:
        data = asdict(self)
        del data["tflm_logits"]
        return data


def verify_int8(
    model: bytes,
    images: np.ndarray,
    torch_logits: np.ndarray,
    arena_bytes: int,
    labels: np.ndarray | None = None,
    reference_images: int = 500,
) -> Int8Verification:
    """Run (N, C, H, W) float images through the int8 model in TFLM, and the first
    ``reference_images`` of them in tf.lite's reference kernels (about 4x slower than TFLM);
    compare the two with each other and TFLM with PyTorch's logits."""
    info = read_tflite(model)
    inputs = quantize(to_nhwc(images), info.inputs[0])
    micro = run_tflm(model, inputs, arena_bytes)
    compared = min(len(inputs), reference_images)
    reference = run_tflite(model, inputs[:compared])
    micro_logits = dequantize(micro, info.outputs[0])
    difference = np.abs(micro[:compared].astype(np.int32) - reference.astype(np.int32))
    accuracies = {}
    if labels is not None:
        labels = np.asarray(labels)
        accuracies = {
            "float_top1": float((top1(torch_logits) == labels).mean()),
            "int8_top1": float((top1(micro_logits) == labels).mean()),
        }
    return Int8Verification(
        samples=len(images),
        reference_samples=compared,
        tflm_tflite_equal_fraction=float((difference == 0).mean()),
        tflm_tflite_max_abs_diff=int(difference.max()),
        tflm_torch_top1_agreement=float((top1(micro_logits) == top1(torch_logits)).mean()),
        tflm_logits=micro_logits,
        **accuracies,
    )
