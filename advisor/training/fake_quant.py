"""The int8 TFLite graph of a PhiNet, simulated in PyTorch with fake quantization.

:class:`QuantizedPhiNet` wraps a :class:`~advisor.training.phinet.PhiNet` and computes what
the full-integer graph of :func:`advisor.export.convert.to_tflite` computes:

* BatchNorm folded into the preceding convolution with its running statistics (frozen, as
  the export folds them);
* weights per output channel, symmetric int8 in [-127, 127], scale max|w| / 127 (the
  converter's rule), the classifier's too;
* biases as int32 with scale input scale x weight scale;
* activations per tensor, asymmetric int8 in [-128, 127], at every tensor the converter
  quantizes: the input, every convolution's output (ReLU6 fused into it; h-swish a separate
  HARD_SWISH op with its own range), the squeeze-excite MEAN, its convolutions, the LOGISTIC
  (fixed scale 1/256, zero point -128) and the MUL, each projection, each residual ADD, the
  classifier's MEAN and its logits. The stride-2 PAD keeps its input's range, so it is no
  point of its own.

The names of these quantization points (:meth:`QuantizedPhiNet.point_names`) are those
:func:`advisor.export.tf_graph.build_forward` takes ranges for, so ranges chosen or learned
here reach the converter unchanged.

Gradients pass through the rounding (straight-through) and are zero where a value is
clipped; the ranges follow the batches' min/max by an exponential moving average while
training (``momentum``) and stay fixed in eval mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from advisor.errors import AdvisorError
from advisor.training.phinet import BN_EPS, PhiNet

RANGE_METHODS = ("minmax", "percentile", "mse")
# values of each quantization point kept per calibration batch for the percentile / MSE choice
SAMPLES_PER_BATCH = 20_000
PERCENTILE = 99.99
MIN_RANGE = 1e-6
LOGISTIC_SCALE, LOGISTIC_ZERO_POINT = 1.0 / 256.0, -128


def activation_qparams(low: torch.Tensor, high: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point of an int8 range [low, high] widened to hold 0, zero point
    rounded (TFLite's and TensorFlow's FakeQuant nudging)."""
    low = torch.clamp(low, max=0.0)
    high = torch.clamp(high, min=0.0)
    scale = torch.clamp((high - low) / 255.0, min=1e-8)
    zero_point = torch.clamp(torch.round(-128.0 - low / scale), -128, 127)
    return scale, zero_point


def fake_quantize_activation(x: torch.Tensor, low: torch.Tensor, high: torch.Tensor):
    scale, zero_point = activation_qparams(low.detach(), high.detach())
    return torch.fake_quantize_per_tensor_affine(
        x, scale.float(), zero_point.to(torch.int32), -128, 127
    )


def weight_scales(weight: torch.Tensor, axis: int) -> torch.Tensor:
    """The converter's per-channel symmetric scale: max |w| over the channel / 127."""
    dims = [d for d in range(weight.dim()) if d != axis]
    return torch.clamp(weight.detach().abs().amax(dim=dims) / 127.0, min=1e-12)


def fake_quantize_weight(weight: torch.Tensor, axis: int = 0) -> torch.Tensor:
    scales = weight_scales(weight, axis)
    zeros = torch.zeros(len(scales), dtype=torch.int32, device=weight.device)
    return torch.fake_quantize_per_channel_affine(weight, scales.float(), zeros, axis, -127, 127)


def fake_quantize_bias(bias: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """int32 bias with scale ``scale`` (input scale x weight scale), straight-through."""
    return bias + (torch.round(bias / scale) * scale - bias).detach()


def _fold(conv: nn.Conv2d, bn: nn.BatchNorm2d | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The convolution's weight and bias with BatchNorm (running statistics) folded in."""
    if bn is None:
        return conv.weight, None
    scale = bn.weight / torch.sqrt(bn.running_var + BN_EPS)
    return conv.weight * scale[:, None, None, None], bn.bias - bn.running_mean * scale


class QuantizedPhiNet(nn.Module):
    """A PhiNet computed as its int8 TFLite graph computes it (see the module docstring).

    ``mode`` is "float" (the PhiNet with folded BatchNorm, nothing quantized), "observe"
    (float, and every quantization point's values recorded for :meth:`set_ranges_from_observed`)
    or "quantize" (fake int8). The wrapped PhiNet's parameters are this module's parameters;
    its BatchNorm statistics stay frozen.
    """

    def __init__(self, model: PhiNet, momentum: float = 0.01):
        super().__init__()
        if not model.config.include_top:
            raise AdvisorError("quantization-aware training needs a PhiNet with include_top=True")
        self.model = model
        self.config = model.config
        self.momentum = momentum
        self.mode = "float"
        self._names: list[str] = []
        self._observed: dict[str, tuple[float, float, list[np.ndarray]]] = {}
        with torch.no_grad():
            self._trace(torch.zeros(1, self.config.in_channels, *[self.config.resolution] * 2))
        self.register_buffer("range_low", torch.zeros(len(self._names)))
        self.register_buffer("range_high", torch.zeros(len(self._names)))
        self._index = {name: i for i, name in enumerate(self._names)}

    def _trace(self, x: torch.Tensor) -> None:
        self._recording = True
        try:
            self._forward(x)
        finally:
            self._recording = False

    def point_names(self) -> list[str]:
        """The quantization points in graph order."""
        return list(self._names)

    # -- ranges ---------------------------------------------------------------------------
    def ranges(self) -> dict[str, tuple[float, float]]:
        return {
            name: (float(self.range_low[i]), float(self.range_high[i]))
            for i, name in enumerate(self._names)
        }

    def set_ranges(self, ranges: Mapping[str, tuple[float, float]]) -> None:
        missing = sorted(set(self._names) - set(ranges))
        if missing:
            raise AdvisorError(f"no range given for quantization points {missing[:5]}")
        for name, (low, high) in ranges.items():
            low, high = min(float(low), 0.0), max(float(high), 0.0)
            self.range_low[self._index[name]] = low
            # an all-zero tensor still needs a range the converter accepts (min < max)
            self.range_high[self._index[name]] = max(high, low + MIN_RANGE)

    def set_ranges_from_observed(self, method: str = "minmax") -> None:
        """Ranges from the values seen in "observe" mode: their min/max, a central
        percentile, or the range minimising the int8 rounding + clipping error."""
        if method not in RANGE_METHODS:
            raise AdvisorError(f"unknown range method {method!r}; choose one of {RANGE_METHODS}")
        if not self._observed:
            raise AdvisorError("no activations observed; run calibration images in observe mode")
        ranges = {}
        for name, (low, high, samples) in self._observed.items():
            values = np.concatenate(samples)
            if method == "percentile":
                low = float(np.percentile(values, 100 - PERCENTILE))
                high = float(np.percentile(values, PERCENTILE))
            elif method == "mse":
                low, high = _mse_range(values, low, high)
            ranges[name] = (low, high)
        self.set_ranges(ranges)
        self._observed = {}

    # -- forward --------------------------------------------------------------------------
    def _point(self, x: torch.Tensor, name: str) -> torch.Tensor:
        if self._recording:
            self._names.append(name)
            return x
        if self.mode == "float":
            return x
        if self.mode == "observe":
            self._observe(name, x)
            return x
        i = self._index[name]
        if self.training:
            with torch.no_grad():
                m = self.momentum
                self.range_low[i].mul_(1 - m).add_(m * x.detach().min().clamp(max=0))
                self.range_high[i].mul_(1 - m).add_(m * x.detach().max().clamp(min=0))
        return fake_quantize_activation(x, self.range_low[i], self.range_high[i])

    def _observe(self, name: str, x: torch.Tensor) -> None:
        flat = x.detach().reshape(-1)
        low, high = float(flat.min()), float(flat.max())
        previous = self._observed.get(name)
        if len(flat) > SAMPLES_PER_BATCH:  # a seeded random subsample
            generator = torch.Generator().manual_seed(len(previous[2]) if previous else 0)
            pick = torch.randint(len(flat), (SAMPLES_PER_BATCH,), generator=generator)
            flat = flat[pick.to(flat.device)]
        if previous is None:
            self._observed[name] = (low, high, [flat.cpu().numpy()])
        else:
            previous[2].append(flat.cpu().numpy())
            self._observed[name] = (min(previous[0], low), max(previous[1], high), previous[2])

    def _scale(self, name: str) -> torch.Tensor | None:
        """The activation scale at a point (None when not quantizing)."""
        if self._recording or self.mode != "quantize":
            return None
        i = self._index[name]
        return activation_qparams(self.range_low[i], self.range_high[i])[0]

    def _conv(
        self,
        x: torch.Tensor,
        conv: nn.Conv2d,
        bn: nn.BatchNorm2d | None,
        input_point: str | None,
        padding: int | tuple[int, int, int, int] = 0,
    ) -> torch.Tensor:
        weight, bias = _fold(conv, bn)
        quantizing = self.mode == "quantize" and not self._recording
        if quantizing:
            if bias is not None and input_point is not None:
                scale = self._scale(input_point) * weight_scales(weight, 0)
                bias = fake_quantize_bias(bias, scale)
            weight = fake_quantize_weight(weight, 0)
        if isinstance(padding, tuple):
            x = F.pad(x, padding)
            padding = 0
        return F.conv2d(x, weight, bias, conv.stride, padding, 1, conv.groups)

    def _activation(self, x: torch.Tensor, name: str) -> torch.Tensor:
        if self.config.h_swish:
            x = self._point(x, name)
            return self._point(F.hardswish(x), f"{name}.act")
        return self._point(F.relu6(x), name)

    def _output_point(self, name: str) -> str:
        return f"{name}.act" if self.config.h_swish else name

    def _forward(self, x: torch.Tensor) -> torch.Tensor:
        model = self.model
        x = self._point(x, "input")
        stem = model.stem
        x = self._conv(x, stem.depthwise, None, "input", padding=model.pad.padding)
        x = self._point(x, "stem.depthwise")
        x = self._activation(
            self._conv(x, stem.pointwise, stem.bn, "stem.depthwise"), "stem.pointwise"
        )
        last = self._output_point("stem.pointwise")
        for index, block in enumerate(model.blocks):
            name = f"block{index}"
            y, source = x, last
            if block.expand is not None:
                y = self._conv(y, block.expand, block.expand_bn, source)
                y = self._activation(y, f"{name}.expand")
                source = self._output_point(f"{name}.expand")
            depthwise = block.depthwise
            y = self._conv(y, depthwise, block.depthwise_bn, source, padding=depthwise.padding[0])
            y = self._activation(y, f"{name}.depthwise")
            source = self._output_point(f"{name}.depthwise")
            if block.se is not None:
                se = block.se
                s = self._point(y.mean(dim=(2, 3), keepdim=True), f"{name}.se.mean")
                s = self._activation(self._conv(s, se.se_conv, None, None), f"{name}.se.reduce")
                s = self._point(self._conv(s, se.se_conv2, None, None), f"{name}.se.expand")
                s = torch.sigmoid(s)
                if self.mode == "quantize" and not self._recording:
                    s = torch.fake_quantize_per_tensor_affine(
                        s, LOGISTIC_SCALE, LOGISTIC_ZERO_POINT, -128, 127
                    )
                y = self._point(y * s, f"{name}.se.mul")
                source = f"{name}.se.mul"
            y = self._point(
                self._conv(y, block.project, block.project_bn, source), f"{name}.project"
            )
            if block.residual:
                y = self._point(y + x, f"{name}.add")
                last = f"{name}.add"
            else:
                last = f"{name}.project"
            x = y
        x = self._point(x.mean(dim=(2, 3)), "head.mean")
        linear = model.classifier[2]
        weight, bias = linear.weight, linear.bias
        if self.mode == "quantize" and not self._recording:
            bias = fake_quantize_bias(bias, self._scale("head.mean") * weight_scales(weight, 0))
            weight = fake_quantize_weight(weight, 0)
        return self._point(F.linear(x, weight, bias), "head.logits")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(x)

    def train(self, mode: bool = True) -> QuantizedPhiNet:
        """Training mode for dropout and the range averages; BatchNorm stays frozen."""
        super().train(mode)
        for module in self.model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()
        return self

    @torch.no_grad()
    def calibrate(
        self, batches: Iterable[torch.Tensor], method: str = "minmax"
    ) -> dict[str, tuple[float, float]]:
        """Set every range from float activations on ``batches`` (as the converter's
        calibration does, but with ``method``), leave the module quantizing in eval mode."""
        was_training = self.training
        self.eval()
        self.mode = "observe"
        self._observed = {}
        try:
            for batch in batches:
                self._forward(batch)
            self.set_ranges_from_observed(method)
        finally:
            self.mode = "quantize"
            self.train(was_training)
        return self.ranges()


def _mse_range(values: np.ndarray, low: float, high: float, steps: int = 64) -> tuple[float, float]:
    """The range (low, high) x f, f in (0, 1], that minimises the mean squared error of
    quantizing ``values`` to int8 (rounding plus clipping)."""
    values = values.astype(np.float64)
    best, best_error = (low, high), np.inf
    for factor in np.linspace(1.0, 0.2, steps):
        a, b = min(low * factor, 0.0), max(high * factor, 0.0)
        scale = max((b - a) / 255.0, 1e-12)
        zero = np.clip(np.round(-128 - a / scale), -128, 127)
        q = np.clip(np.round(values / scale) + zero, -128, 127)
        error = float(np.mean(((q - zero) * scale - values) ** 2))
        if error < best_error:
            best, best_error = (a, b), error
    return best
