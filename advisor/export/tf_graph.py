"""The PhiNet forward pass rebuilt in TensorFlow (NHWC) from a PyTorch state_dict.

The graph is written with plain ``tf.nn`` ops so that the TFLite converter emits only
builtins TFLite Micro runs: BatchNorm is folded into the preceding convolution here (in
numpy), h-swish is written as ``x * relu6(x + 3) / 6`` (the converter fuses it into one
HARD_SWISH op), and every layout is NHWC from the start, so no TRANSPOSE appears.

Layer shapes are read from the weights themselves; only the strides and switches come
from the :class:`~advisor.config.PhiNetConfig`. The state_dict keys are those of
micromind 0.2.1's ``PhiNet`` (``_layers.<i>._layers.<j>...``, ``classifier.2``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError

# micromind builds every BatchNorm2d with eps=1e-3.
BN_EPS = 1e-3

_KEY = re.compile(r"^_layers\.(\d+)\._layers\.(\d+)\.(.+)$")


@dataclass(frozen=True)
class Conv:
    """A convolution with BatchNorm folded in. ``weight`` is in TF layout:
    [k, k, C, 1] for a depthwise conv, [1, 1, C_in, C_out] for a pointwise one."""

    weight: np.ndarray
    bias: np.ndarray | None
    depthwise: bool
    stride: int = 1

    @property
    def out_channels(self) -> int:
        return self.weight.shape[2] if self.depthwise else self.weight.shape[3]


@dataclass(frozen=True)
class Block:
    """One PhiNet block: [expand] -> depthwise -> [squeeze-excite] -> project [+ input]."""

    expand: Conv | None
    depthwise: Conv
    se_reduce: np.ndarray | None  # [1, 1, C, C_r], no bias
    se_expand: np.ndarray | None  # [1, 1, C_r, C], no bias
    project: Conv
    residual: bool


@dataclass(frozen=True)
class PhiNetWeights:
    """Everything the TF graph needs, in TF layout, BatchNorm folded."""

    stem_depthwise: Conv
    stem_pointwise: Conv
    blocks: tuple[Block, ...]
    classifier_weight: np.ndarray | None  # [C, classes]
    classifier_bias: np.ndarray | None


def _numpy(value: Any) -> np.ndarray:
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def _fold(
    weight: np.ndarray, bn: Mapping[str, np.ndarray] | None, depthwise: bool, stride: int = 1
) -> Conv:
    """PyTorch conv weight [O, I/g, k, k] (+ BatchNorm) -> TF layout with folded bias."""
    bias = None
    if bn is not None:
        scale = bn["weight"] / np.sqrt(bn["running_var"] + BN_EPS)
        weight = weight * scale[:, None, None, None]
        bias = (bn["bias"] - bn["running_mean"] * scale).astype(np.float32)
    tf_weight = weight.transpose(2, 3, 0, 1) if depthwise else weight.transpose(2, 3, 1, 0)
    return Conv(np.ascontiguousarray(tf_weight, dtype=np.float32), bias, depthwise, stride)


def _group(state_dict: Mapping[str, Any]) -> dict[int, dict[int, dict[str, np.ndarray]]]:
    """_layers.<i>._layers.<j>.<name> -> {i: {j: {name: array}}}."""
    layers: dict[int, dict[int, dict[str, np.ndarray]]] = {}
    for key, value in state_dict.items():
        match = _KEY.match(key)
        if match and not key.endswith("num_batches_tracked"):
            i, j, name = int(match[1]), int(match[2]), match[3]
            layers.setdefault(i, {}).setdefault(j, {})[name] = _numpy(value)
    return layers


def _block_stride(block_index: int, config: PhiNetConfig) -> int:
    """Stride of PhiNet block n (0 = the block without expansion)."""
    if block_index in (1, 3):
        return 2
    if block_index >= 4 and block_index in config.downsampling_layers:
        return 2
    return 1


def _parse_block(
    parts: dict[int, dict[str, np.ndarray]], stride: int, residuals: bool, where: str
) -> Block:
    """Read a block's sub-layers in order: conv [bn] ... depthwise bn [se] conv bn."""
    convs: list[tuple[np.ndarray, dict[str, np.ndarray] | None]] = []
    se: dict[str, np.ndarray] | None = None
    for j in sorted(parts):
        tensors = parts[j]
        if "se_conv.weight" in tensors:
            se = tensors
        elif "running_mean" in tensors:
            if not convs or convs[-1][1] is not None:
                raise AdvisorError(
                    f"{where}: BatchNorm {j} follows no convolution; "
                    "is this a micromind-style PhiNet state_dict?"
                )
            convs[-1] = (convs[-1][0], tensors)
        elif "weight" in tensors and tensors["weight"].ndim == 4:
            convs.append((tensors["weight"], None))
        else:
            raise AdvisorError(f"{where}: unexpected parameters {sorted(tensors)} in layer {j}")
    if len(convs) not in (2, 3) or any(bn is None for _, bn in convs):
        raise AdvisorError(
            f"{where}: expected [expand,] depthwise, project convolutions each "
            f"with BatchNorm; found {len(convs)} convolutions"
        )
    expand = _fold(*convs[0], depthwise=False) if len(convs) == 3 else None
    depthwise_weight, depthwise_bn = convs[-2]
    if depthwise_weight.shape[1] != 1:
        raise AdvisorError(
            f"{where}: the middle convolution is not depthwise "
            f"(weight shape {depthwise_weight.shape})"
        )
    depthwise = _fold(depthwise_weight, depthwise_bn, depthwise=True, stride=stride)
    project = _fold(*convs[-1], depthwise=False)
    in_channels = expand.weight.shape[2] if expand else depthwise.out_channels
    return Block(
        expand=expand,
        depthwise=depthwise,
        se_reduce=None
        if se is None
        else se["se_conv.weight"].transpose(2, 3, 1, 0).astype(np.float32),
        se_expand=None
        if se is None
        else se["se_conv2.weight"].transpose(2, 3, 1, 0).astype(np.float32),
        project=project,
        residual=residuals and stride == 1 and in_channels == project.out_channels,
    )


def phinet_weights(config: PhiNetConfig, state_dict: Mapping[str, Any]) -> PhiNetWeights:
    """Fold and re-lay-out a micromind-style PhiNet state_dict for the TF graph."""
    layers = _group(state_dict)
    if 1 not in layers or 2 not in layers:
        raise AdvisorError(
            "state_dict lacks the PhiNet stem (_layers.1) or block 0 (_layers.2); "
            "pass the state_dict of a micromind-style PhiNet"
        )
    stem = layers[1]
    try:
        stem_depthwise = _fold(stem[0]["weight"], None, depthwise=True, stride=2)
        stem_pointwise = _fold(stem[1]["weight"], stem[2], depthwise=False)
    except KeyError as err:
        raise AdvisorError(f"state_dict stem (_layers.1) lacks {err}") from None
    blocks = []
    for position, i in enumerate(sorted(k for k in layers if k >= 2)):
        block_index = i - 2
        if block_index != position:
            raise AdvisorError(f"state_dict skips PhiNet layer _layers.{position + 2}")
        blocks.append(
            _parse_block(
                layers[i], _block_stride(block_index, config), config.residuals, f"_layers.{i}"
            )
        )
    expected_blocks = max(config.num_layers, 3) + 1
    if len(blocks) != expected_blocks:
        raise AdvisorError(
            f"state_dict has {len(blocks)} PhiNet blocks but the config "
            f"(num_layers={config.num_layers}) needs {expected_blocks}"
        )
    classifier_weight = classifier_bias = None
    if config.include_top:
        if "classifier.2.weight" not in state_dict:
            raise AdvisorError(
                "config has include_top=True but the state_dict lacks classifier.2.weight"
            )
        classifier_weight = _numpy(state_dict["classifier.2.weight"]).T.astype(np.float32)
        classifier_bias = _numpy(state_dict["classifier.2.bias"]).astype(np.float32)
    return PhiNetWeights(
        stem_depthwise, stem_pointwise, tuple(blocks), classifier_weight, classifier_bias
    )


def build_forward(
    config: PhiNetConfig,
    state_dict: Mapping[str, Any],
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> Callable:
    """A ``tf.function`` mapping an NHWC float32 batch to logits (or features without top).

    With ``ranges`` ({quantization point: (min, max)}, the names of
    :func:`advisor.training.fake_quant.quantization_points`) every activation the int8
    converter quantizes gets a ``FakeQuant`` op with that range, so the converter takes these
    ranges instead of the calibration's min/max. The ops of the converted graph are the same.
    """
    import tensorflow as tf

    weights = phinet_weights(config, state_dict)
    used: set[str] = set()

    def quantized(x, name: str):
        if ranges is None:
            return x
        if name not in ranges:
            raise AdvisorError(f"no activation range for quantization point {name!r}")
        used.add(name)
        low, high = (float(v) for v in ranges[name])
        return tf.quantization.fake_quant_with_min_max_args(x, min=low, max=high, num_bits=8)

    def activation(x, name: str):
        """Conv output -> activation, each quantization point as the converter places it:
        h-swish is a separate HARD_SWISH op, ReLU6 is fused into the convolution."""
        if config.h_swish:
            x = quantized(x, name)
            return quantized(x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0), f"{name}.act")
        return quantized(tf.nn.relu6(x), name)

    def conv(x, layer: Conv):
        if layer.depthwise:
            k = layer.weight.shape[0]
            if layer.stride == 1:
                # PyTorch pads k // 2 on every side: TF's SAME for an odd kernel at stride 1.
                padding = "SAME"
            else:
                # micromind pads stride-2 depthwise convs by 1 on each side; TF's SAME would
                # pad only bottom/right for even inputs, shifting the sampling grid.
                x = tf.pad(x, [[0, 0], [k // 2, k // 2], [k // 2, k // 2], [0, 0]])
                padding = "VALID"
            y = tf.nn.depthwise_conv2d(x, layer.weight, [1, layer.stride, layer.stride, 1], padding)
        else:
            y = tf.nn.conv2d(x, layer.weight, 1, "VALID")
        return y if layer.bias is None else tf.nn.bias_add(y, layer.bias)

    def stem(x):
        # micromind's ZeroPad2d((0,1,0,1)) for even R and (1,1,1,1) for odd R is exactly
        # TF's SAME padding for a 3x3 stride-2 convolution.
        y = tf.nn.depthwise_conv2d(x, weights.stem_depthwise.weight, [1, 2, 2, 1], "SAME")
        y = quantized(y, "stem.depthwise")
        return activation(conv(y, weights.stem_pointwise), "stem.pointwise")

    def block(x, b: Block, name: str):
        y = activation(conv(x, b.expand), f"{name}.expand") if b.expand is not None else x
        y = activation(conv(y, b.depthwise), f"{name}.depthwise")
        if b.se_reduce is not None:
            s = quantized(tf.reduce_mean(y, axis=[1, 2], keepdims=True), f"{name}.se.mean")
            s = activation(tf.nn.conv2d(s, b.se_reduce, 1, "VALID"), f"{name}.se.reduce")
            s = quantized(tf.nn.conv2d(s, b.se_expand, 1, "VALID"), f"{name}.se.expand")
            y = quantized(y * tf.sigmoid(s), f"{name}.se.mul")
        y = quantized(conv(y, b.project), f"{name}.project")
        return quantized(y + x, f"{name}.add") if b.residual else y

    r = config.resolution

    @tf.function(input_signature=[tf.TensorSpec([1, r, r, config.in_channels], tf.float32)])
    def forward(x):
        y = stem(quantized(x, "input"))
        for index, b in enumerate(weights.blocks):
            y = block(y, b, f"block{index}")
        if weights.classifier_weight is None:
            return y
        y = quantized(tf.reduce_mean(y, axis=[1, 2]), "head.mean")
        return quantized(
            tf.matmul(y, weights.classifier_weight) + weights.classifier_bias, "head.logits"
        )

    if ranges is not None:
        forward.get_concrete_function()  # traces the graph: every point is met once
        unused = sorted(set(ranges) - used)
        if unused:
            raise AdvisorError(
                f"activation ranges for {unused[:5]} match no quantization point of this PhiNet"
            )
    return forward
