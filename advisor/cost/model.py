"""The exact cost model: parameters, MACs, int8 peak RAM, tensor arena and flash of a PhiNet.

One implementation serves one configuration (:func:`estimate`, with a per-layer
breakdown) and thousands at once (:func:`estimate_totals`, numpy arrays for alpha, beta
and t0): the graph below is written with arithmetic that works on Python ints and on
numpy arrays alike.

Conventions (the tests check each against micromind 0.2.1's PhiNet):

- ``params``: PyTorch's count, ``sum(p.numel() for p in model.parameters())`` (BatchNorm
  weight and bias included, running statistics not).
- ``params_folded``: what an int8 deployment stores after folding each BatchNorm into the
  convolution before it: conv / linear weights plus one bias per output channel of every
  layer that has a bias or a BatchNorm (the bias-free stem depthwise and squeeze-excite
  convs stay bias-free here; the flash estimate adds the converter's zero biases).
- ``macs``: torchinfo's ``total_mult_adds``, which micromind's ``get_MAC()`` reports
  (9,817,670 for ``PhiNet((3, 224, 224))``): every convolution
  ``out_h * out_w * out_c * in_c / groups * k * k``, every linear ``in * out + out`` (the
  bias counts), every BatchNorm ``2 * channels``. Activations, padding, pooling, the
  squeeze-excite multiply and residual adds count nothing.
- ``peak_ram_bytes``: the largest set of int8 tensors alive at once while some op runs, as
  TFLite Micro's planner sees the graph of :mod:`advisor.cost.deployment`: the op's inputs
  and output plus every tensor kept for a later op (a residual block's input until its
  ADD, the squeeze-excite input until its MUL). The model input counts. Scratch buffers
  and the planner's fragmentation do not.
- ``arena_bytes``: an estimate of TFLite Micro's whole tensor arena (what a board's RAM
  budget must hold): the activation plan plus the interpreter's persistent allocations,
  from the counts of tensors, ops and weighted-op channels and the constants in
  :mod:`advisor.cost.deployment` (0-4 % above arenas measured on TFLite Micro's host
  build, up to 9 % for tiny models).
- ``flash_bytes``: an estimate of the .tflite size from the constants in
  :mod:`advisor.cost.deployment` (never under converted models, at most 3 % over).
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from advisor.config import PhiNetConfig
from advisor.cost import deployment as dp
from advisor.cost.architecture import (
    FIRST_CONV_FILTERS,
    KERNEL_SIZE,
    BlockSpec,
    downsampled,
    phinet_widths,
    stem_padding,
)
from advisor.errors import AdvisorError
from advisor.latency.ops import CLASSES, MAC_CLASSES, op_class, op_work
from advisor.provenance import COST_MODEL

TOTALS = ("params", "params_folded", "macs", "peak_ram_bytes", "arena_bytes", "flash_bytes")
# What the latency model needs, also returned by `estimate_totals`: the op count and the
# work per op class (advisor.latency.ops: MACs without the folded BatchNorm, or elements).
WORK_TOTALS = ("ops", *(f"work_{name}" for name in CLASSES))
# Where ``arena_bytes`` comes from, for every place that prints it.
ARENA_SOURCE = f"{COST_MODEL}, calibrated on TFLite Micro arenas (64-bit host build)"


@dataclass(frozen=True)
class LayerCost:
    """One op of the int8 graph. Shapes are (H, W, C); ``input_shape`` is the first input's.

    ``params`` and ``macs`` include the BatchNorm folded into the op; ``live_bytes`` is
    every tensor alive while it runs; ``flash_bytes`` its weights, biases, quantization data
    and flatbuffer entries (the model's fixed bytes and input tensor are in no layer).
    """

    name: str
    op: str
    input_shape: tuple[int, int, int]
    output_shape: tuple[int, int, int]
    params: int
    params_folded: int
    macs: int
    live_bytes: int
    flash_bytes: int
    op_class: str = ""
    work: int = 0  # what the latency model charges (advisor.latency.ops)


@dataclass(frozen=True)
class CostReport:
    """Cost of one PhiNet configuration, every figure from the cost model."""

    config: PhiNetConfig
    params: int
    params_folded: int
    macs: int
    peak_ram_bytes: int
    arena_bytes: int
    flash_bytes: int
    layers: list[LayerCost]

    def work_totals(self) -> dict[str, int]:
        """The op count and the work per op class (keys of WORK_TOTALS)."""
        totals = {"ops": len(self.layers), **{f"work_{name}": 0 for name in CLASSES}}
        for layer in self.layers:
            totals[f"work_{layer.op_class}"] += layer.work
        return totals

    @property
    def peak_layer(self) -> LayerCost:
        """The op whose live tensors set ``peak_ram_bytes`` (the first one if tied)."""
        return max(self.layers, key=lambda layer: layer.live_bytes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            **{name: getattr(self, name) for name in TOTALS},
            "layers": [asdict(layer) for layer in self.layers],
            "source": COST_MODEL,
        }


_WEIGHTED_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
# Flash of one activation tensor (an op's output, or the model input).
_ACTIVATION_FLASH = dp.ACTIVATION_TENSOR_BYTES + dp.ACTIVATION_QUANT_BYTES


class _Tensor:
    __slots__ = ("bytes", "shape")

    def __init__(self, shape):
        self.shape = shape
        self.bytes = (shape[0] * shape[1] * dp.ACTIVATION_BYTES) * shape[2]


@dataclass
class _Op:
    name: str
    op: str
    input: _Tensor
    output: _Tensor
    params: Any
    params_folded: Any
    macs: Any
    live_bytes: Any
    flash_bytes: Any
    tensors: Any  # tensors it adds: its output, and its weights, bias, shared constant
    channels: Any  # output channels of a CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED
    present: Any  # bool, or a bool array: a residual ADD exists only where widths match
    op_class: str  # latency-model class (advisor.latency.ops)
    work: Any  # latency-model work


class _Graph:
    """Appends ops in execution order and works out what each one costs."""

    def __init__(self, h_swish: bool, vectorized: bool):
        self.h_swish = h_swish
        self.vectorized = vectorized
        self.ops: list[_Op] = []
        self._kept: list[tuple[_Tensor, Any]] = []  # (tensor, where it is kept)
        self._shared: set[str] = set()  # ops whose shared constant is already stored
        self._zero_biases: list[Any] = []  # lengths of the all-zero biases stored so far

    def keep(self, tensor: _Tensor, where=True) -> None:
        self._kept.append((tensor, where))

    def release(self, tensor: _Tensor) -> None:
        self._kept = [(t, where) for t, where in self._kept if t is not tensor]

    def add(
        self,
        name: str,
        op: str,
        inputs: list[_Tensor],
        output_shape,
        *,
        weights=0,
        channels=0,
        has_bias=False,
        batchnorm=False,
        present=True,
    ) -> _Tensor:
        """Append one op. ``weights`` and ``channels`` (its output channels) describe a
        CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED; ``batchnorm``: one is folded in."""
        # Branches on Python bools keep numpy work to what each op needs (speed).
        output = _Tensor(output_shape)
        live = output.bytes
        for tensor in inputs:
            live = live + tensor.bytes
        for tensor, where in self._kept:
            if tensor not in inputs:  # _Tensor compares by identity
                live = live + (tensor.bytes if where is True else tensor.bytes * where)
        constants, data = 0, 0  # constant tensors (weights, biases, shared constants)
        if op in _WEIGHTED_OPS:
            spatial = output_shape[0] * output_shape[1]
            if has_bias:
                params = params_folded = weights + channels
                macs = params * spatial
            elif batchnorm:
                params_folded = weights + channels
                params = params_folded + channels
                macs = weights * spatial + 2 * channels
            else:
                params = params_folded = weights
                macs = weights * spatial
            per_channel = dp.QUANT_BYTES_PER_CHANNEL * channels
            constants, data = constants + 1, data + per_channel + weights * dp.WEIGHT_BYTES
            if has_bias or batchnorm:
                constants, data = constants + 1, data + per_channel + channels * dp.BIAS_BYTES
            elif dp.EVERY_CONV_HAS_BIAS and op != "FULLY_CONNECTED":
                constants, data = constants + 1, data + per_channel + self._zero_bias(channels)
        else:
            params = params_folded = macs = 0
            channels = 0
        cls = op_class(op)  # every CONV_2D of a PhiNet is 1x1
        work = op_work(
            cls,
            weights * (output_shape[0] * output_shape[1]) if cls in MAC_CLASSES else 0,
            inputs[0].shape[0] * inputs[0].shape[1] * inputs[0].shape[2],
            output_shape[0] * output_shape[1] * output_shape[2],
        )
        if op in dp.SHARED_CONSTANT_BYTES and op not in self._shared:
            self._shared.add(op)  # the first PAD / MEAN carries the constant all of them use
            constants, data = constants + 1, data + dp.SHARED_CONSTANT_BYTES[op]
        flash = _ACTIVATION_FLASH + constants * dp.CONSTANT_TENSOR_BYTES + data
        tensors = 1 + constants  # the output tensor too
        if present is not True:
            params, params_folded, macs, live, flash, tensors, channels, work = (
                value * present
                for value in (params, params_folded, macs, live, flash, tensors, channels, work)
            )
        self.ops.append(
            _Op(
                name,
                op,
                inputs[0],
                output,
                params,
                params_folded,
                macs,
                live,
                flash,
                tensors,
                channels,
                present,
                cls,
                work,
            )
        )
        return output

    def _zero_bias(self, channels):
        """Data bytes of an all-zero bias of `channels`: none when one of the same length is
        already stored (the converter stores identical buffers once)."""
        new = 1
        for length in self._zero_biases:
            new = new * (length != channels)
        self._zero_biases.append(channels)
        return new * channels * dp.BIAS_BYTES

    def activation(self, name: str, x: _Tensor) -> _Tensor:
        """h-swish as its own op; ReLU6 is fused into the op before it."""
        if self.h_swish and dp.HARD_SWISH_IS_SEPARATE_OP:
            return self.add(name, "HARD_SWISH", [x], x.shape)
        return x


def _stem(graph: _Graph, x: _Tensor, resolution: int, stem_channels) -> _Tensor:
    in_channels = x.shape[2]
    if dp.STEM_PAD_IS_SEPARATE_OP:
        left, right, top, bottom = stem_padding(resolution)
        x = graph.add(
            "stem.pad",
            "PAD",
            [x],
            (resolution + top + bottom, resolution + left + right, in_channels),
        )
    side = downsampled(resolution)
    x = graph.add(
        "stem.depthwise",
        "DEPTHWISE_CONV_2D",
        [x],
        (side, side, in_channels),
        weights=in_channels * KERNEL_SIZE * KERNEL_SIZE,
        channels=in_channels,
    )
    x = graph.add(
        "stem.pointwise",
        "CONV_2D",
        [x],
        (side, side, stem_channels),
        weights=in_channels * stem_channels,
        channels=stem_channels,
        batchnorm=True,
    )
    return graph.activation("stem.activation", x)


def _squeeze_excite(graph: _Graph, name: str, x: _Tensor, reduced) -> _Tensor:
    channels = x.shape[2]
    graph.keep(x)
    s = x
    if x.shape[0] * x.shape[1] > 1 or not dp.SE_MEAN_DROPPED_AT_1X1:
        s = graph.add(f"{name}.mean", "MEAN", [x], (1, 1, channels))
    s = graph.add(
        f"{name}.reduce",
        "CONV_2D",
        [s],
        (1, 1, reduced),
        weights=channels * reduced,
        channels=reduced,
    )
    s = graph.activation(f"{name}.activation", s)
    s = graph.add(
        f"{name}.expand",
        "CONV_2D",
        [s],
        (1, 1, channels),
        weights=reduced * channels,
        channels=channels,
    )
    s = graph.add(f"{name}.sigmoid", "LOGISTIC", [s], s.shape)
    y = graph.add(f"{name}.mul", "MUL", [x, s], x.shape)
    graph.release(x)
    return y


def _block(graph: _Graph, spec: BlockSpec, x: _Tensor) -> _Tensor:
    name = f"block{spec.index}"
    side, expanded = x.shape[0], spec.expanded
    may_add = spec.stride == 1 and bool(np.any(spec.residual))
    if may_add:
        graph.keep(x, spec.residual)
    y = x
    if spec.has_expansion:
        y = graph.add(
            f"{name}.expand",
            "CONV_2D",
            [y],
            (side, side, expanded),
            weights=spec.in_channels * expanded,
            channels=expanded,
            batchnorm=True,
        )
        y = graph.activation(f"{name}.expand_activation", y)
    if spec.stride == 2:
        if dp.PAD_OP_FOR_EVEN_STRIDE2_INPUT and side % 2 == 0:
            pad = KERNEL_SIZE // 2
            y = graph.add(f"{name}.pad", "PAD", [y], (side + 2 * pad, side + 2 * pad, expanded))
        side = downsampled(side)
    y = graph.add(
        f"{name}.depthwise",
        "DEPTHWISE_CONV_2D",
        [y],
        (side, side, expanded),
        weights=expanded * KERNEL_SIZE * KERNEL_SIZE,
        channels=expanded,
        batchnorm=True,
    )
    y = graph.activation(f"{name}.depthwise_activation", y)
    if spec.se_channels is not None:
        y = _squeeze_excite(graph, f"{name}.se", y, spec.se_channels)
    y = graph.add(
        f"{name}.project",
        "CONV_2D",
        [y],
        (side, side, spec.out_channels),
        weights=expanded * spec.out_channels,
        channels=spec.out_channels,
        batchnorm=True,
    )
    if may_add:
        y = graph.add(f"{name}.add", "ADD", [y, x], y.shape, present=spec.residual)
        graph.release(x)
    return y


def _graph(
    alpha,
    beta,
    t0,
    *,
    num_layers: int,
    resolution: int,
    in_channels: int,
    num_classes: int,
    divisor: int,
    downsampling_layers,
    squeeze_excite: bool,
    h_swish: bool,
    residuals: bool,
    include_top: bool,
) -> _Graph:
    widths = phinet_widths(
        alpha,
        beta,
        t0,
        num_layers,
        divisor=divisor,
        downsampling_layers=downsampling_layers,
        squeeze_excite=squeeze_excite,
        residuals=residuals,
    )
    graph = _Graph(h_swish, vectorized=isinstance(widths.stem_channels, np.ndarray))
    x = _stem(
        graph, _Tensor((resolution, resolution, in_channels)), resolution, widths.stem_channels
    )
    for spec in widths.blocks:
        x = _block(graph, spec, x)
    if include_top:
        channels = x.shape[2]
        x = graph.add("head.mean", "MEAN", [x], (1, 1, channels))
        graph.add(
            "head.fc",
            "FULLY_CONNECTED",
            [x],
            (1, 1, num_classes),
            weights=channels * num_classes,
            channels=num_classes,
            has_bias=True,
        )
    return graph


def _arena_bytes(peak_ram_bytes, tensors, ops, channels):
    """TFLite Micro's whole tensor arena: the activation plan (or the memory planner's
    scratch, whichever is larger) plus the persistent allocations (see
    advisor.cost.deployment)."""
    plan = -(-peak_ram_bytes // dp.ARENA_ALIGNMENT) * dp.ARENA_ALIGNMENT
    planner = (
        dp.PLANNER_BYTES_PER_TENSOR * tensors + dp.PLANNER_BYTES_PER_OP * ops + dp.PLANNER_BYTES
    )
    # Python ints for one configuration (exact at any size), numpy for many
    larger = np.maximum if isinstance(plan, np.ndarray) or isinstance(planner, np.ndarray) else max
    return (
        larger(plan, planner)
        + dp.ARENA_BYTES_PER_OP * ops
        + dp.ARENA_BYTES_PER_TENSOR * tensors
        + dp.ARENA_BYTES_PER_CHANNEL * channels
        + dp.ARENA_BYTES
    )


def _totals(graph: _Graph) -> dict[str, Any]:
    ops = graph.ops
    live = [op.live_bytes for op in ops]
    peak = functools.reduce(np.maximum, live) if graph.vectorized else max(live)
    tensors = 1 + sum(op.tensors for op in ops)  # the model input is a tensor too
    count = sum(op.present for op in ops)
    channels = sum(op.channels for op in ops)
    flash = dp.MODEL_BYTES + _ACTIVATION_FLASH + sum(op.flash_bytes for op in ops)
    work = {
        f"work_{name}": sum((op.work for op in ops if op.op_class == name), 0) for name in CLASSES
    }
    return {
        **work,
        "ops": count,
        "params": sum(op.params for op in ops),
        "params_folded": sum(op.params_folded for op in ops),
        "macs": sum(op.macs for op in ops),
        "peak_ram_bytes": peak,
        "arena_bytes": _arena_bytes(peak, tensors, count, channels),
        "flash_bytes": flash,
    }


_STRUCTURE = (
    "num_layers",
    "resolution",
    "in_channels",
    "num_classes",
    "divisor",
    "downsampling_layers",
    "squeeze_excite",
    "h_swish",
    "residuals",
    "include_top",
)


def _structure(config: PhiNetConfig) -> dict[str, Any]:
    """Every field but alpha, beta and t0."""
    return {name: getattr(config, name) for name in _STRUCTURE}


def estimate(config: PhiNetConfig) -> CostReport:
    """Parameters, MACs, int8 peak RAM, flash estimate and per-op breakdown of ``config``."""
    if not isinstance(config, PhiNetConfig):
        raise AdvisorError(
            f"estimate() takes a PhiNetConfig, got {type(config).__name__}; "
            "build one with PhiNetConfig(...) or PhiNetConfig.from_dict(...)"
        )
    graph = _graph(config.alpha, config.beta, config.t0, **_structure(config))
    # One configuration runs on Python ints all the way: no conversion needed.
    layers = [
        LayerCost(
            op.name,
            op.op,
            op.input.shape,
            op.output.shape,
            op.params,
            op.params_folded,
            op.macs,
            op.live_bytes,
            op.flash_bytes,
            op.op_class,
            op.work,
        )
        for op in graph.ops
        if op.present
    ]
    totals = {name: int(value) for name, value in _totals(graph).items() if name in TOTALS}
    return CostReport(config=config, layers=layers, **totals)


def _positive_array(name: str, value) -> np.ndarray:
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise AdvisorError(
            f"{name} must be a number or an array of numbers, got {value!r}"
        ) from None
    if not np.all(np.isfinite(array) & (array > 0)):
        raise AdvisorError(
            f"every {name} must be a finite positive number; "
            f"got {array[~(np.isfinite(array) & (array > 0))][:3].tolist()}"
        )
    return array


# numpy's int64 wraps silently past this; the vectorized totals must stay below it.
_INT64_SAFE = 2**62


def _check_int64_range(arrays: list[np.ndarray], structure: PhiNetConfig) -> None:
    """Raise when some total of the vectorized cost model could reach int64's range (it would
    wrap to nonsense, negative MACs for one). Costs grow with alpha, beta and t0 (the arena
    estimate within a few hundred bytes), so the corner of the largest of each bounds them
    all: a rough bound first, then, only when it does not settle it, the exact costs of the
    corner in Python's unbounded integers."""
    if not arrays[0].size or not all(a.size for a in arrays):
        return
    alpha, beta, t0 = (float(np.max(a)) for a in arrays)
    # Every channel count is at most the widest base width (48, doubled per downsampling)
    # x alpha x the largest expansion, plus the rounding; every op's count at most
    # 16 x width^2 x (side + 3)^2, with at most 16 ops per block.
    base = FIRST_CONV_FILTERS * 2 ** len(structure.downsampling_layers) * alpha
    width_bound = (
        base * t0 * max(beta, 1.0)
        + 2 * structure.divisor
        + structure.in_channels
        + structure.num_classes
        + 2
    )
    bound = (
        16
        * (structure.num_layers + 4)
        * (16 * width_bound**2 * (structure.resolution + 3) ** 2 + 10**6)
    )
    if bound < _INT64_SAFE:
        return
    corner = _totals(_graph(alpha, beta, t0, **_structure(structure)))
    too_large = {name: int(value) for name, value in corner.items() if value >= _INT64_SAFE}
    if too_large:
        figures = ", ".join(f"{name} {value:.3g}" for name, value in too_large.items())
        raise AdvisorError(
            f"the PhiNet alpha={alpha:g} beta={beta:g} t0={t0:g} N={structure.num_layers} at "
            f"{structure.resolution}x{structure.resolution} costs more than the cost model's "
            f"64-bit counts hold ({figures}; at most {_INT64_SAFE:.3g}): lower alpha, t0, "
            "the resolution or the number of classes"
        )


def estimate_totals(
    alpha,
    beta,
    t0,
    num_layers: int,
    resolution: int,
    in_channels: int = 3,
    num_classes: int = 10,
    **options: Any,
) -> dict[str, np.ndarray]:
    """Totals for many configurations at once: ``alpha``, ``beta``, ``t0`` are arrays (or
    scalars) broadcast together; the rest are scalars; ``options`` are the other
    :class:`~advisor.config.PhiNetConfig` fields (divisor, downsampling_layers,
    squeeze_excite, h_swish, residuals, include_top).

    Returns int64 arrays of the broadcast shape under the keys of :data:`TOTALS` and
    :data:`WORK_TOTALS`; element ``i`` equals ``estimate(PhiNetConfig(alpha[i], beta[i],
    t0[i], ...))`` (its totals and ``work_totals()``).
    """
    arrays = [
        _positive_array(name, value)
        for name, value in (("alpha", alpha), ("beta", beta), ("t0", t0))
    ]
    try:
        shape = np.broadcast_shapes(*(a.shape for a in arrays))
    except ValueError:
        raise AdvisorError(
            f"alpha, beta and t0 must broadcast together; got shapes {[a.shape for a in arrays]}"
        ) from None

    def plain(value: int) -> int:
        return int(value) if isinstance(value, np.integer) else value

    try:
        # Validates the scalar fields once (alpha, beta, t0 are stand-ins, checked above).
        structure = PhiNetConfig(
            1.0,
            1.0,
            1.0,
            num_layers=plain(num_layers),
            resolution=plain(resolution),
            in_channels=plain(in_channels),
            num_classes=plain(num_classes),
            **options,
        )
    except TypeError as err:
        raise AdvisorError(
            f"unknown PhiNet option: {err}; options are divisor, "
            "downsampling_layers, squeeze_excite, h_swish, residuals, "
            "include_top"
        ) from None
    _check_int64_range(arrays, structure)
    arrays = [np.broadcast_to(a, shape) for a in arrays]
    if not shape:
        arrays = [a.reshape(1) for a in arrays]
    totals = _totals(_graph(*arrays, **_structure(structure)))
    return {
        name: np.array(np.broadcast_to(value, arrays[0].shape), dtype=np.int64).reshape(shape)
        for name, value in totals.items()
    }
