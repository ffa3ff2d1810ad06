"""PhiNet's channel widths, strides and residuals, exactly as micromind 0.2.1 builds them.

This is the one place the architecture rules live: the PyTorch module
(:mod:`advisor.training.phinet`) and the cost model both read their widths from here.
Every function takes Python numbers or numpy arrays for ``alpha``, ``beta`` and ``t0``
(broadcast together), so the cost model evaluates one configuration in Python ints or
thousands at once in int64 arrays, with the same code.

micromind evaluates each width as ``_make_divisible(int(<float expression>), divisor)``.
The float expressions below are written in the same order as micromind's, so the float64
products (``48 * 0.35 = 16.799...``) and their truncation agree bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

# Hard-coded in micromind's PhiNet.__init__.
FIRST_CONV_FILTERS = 48
BLOCK1_FILTERS = 24
BLOCK2_FILTERS = 48
KERNEL_SIZE = 3  # conv5_percent = 0, so every depthwise kernel is 3x3


def _trunc(value):
    """int(value) of micromind's code: toward zero, on a Python number or an array."""
    if isinstance(value, np.ndarray):
        return np.trunc(value).astype(np.int64)
    return int(value)


def _maximum(low: int, value):
    return np.maximum(low, value) if isinstance(value, np.ndarray) else max(low, value)


def make_divisible(value, divisor: int):
    """micromind's ``_make_divisible(v, divisor)`` for integer ``v`` (an int or an int array).

    Rounds half up to a multiple of ``divisor``, never below ``divisor``, and adds one
    ``divisor`` when rounding went more than 10 % below ``v``.
    """
    # int(v + divisor / 2) truncates toward zero, then // floors (v may be negative).
    rounded = _maximum(divisor, _trunc(value + divisor / 2) // divisor * divisor)
    return rounded + divisor * (rounded < 0.9 * value)


def width(product, divisor: int):
    """``_make_divisible(int(product), divisor)``: the width of a layer from its float product."""
    return make_divisible(_trunc(product), divisor)


def expansion_factor(t0, beta, block_id: int, num_layers: int):
    """micromind's ``get_xpansion_factor``: t_n = t0 beta n / N + t0 (N - n) / N."""
    return (t0 * beta) * block_id / num_layers + t0 * (num_layers - block_id) / num_layers


def stem_padding(resolution: int) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) of the stem's ZeroPad2d: micromind's ``correct_pad``."""
    pad_before = resolution % 2  # (0, 1) for even R, (1, 1) for odd R
    return (pad_before, 1, pad_before, 1)


def downsampled(size: int) -> int:
    """Output side of a 3x3 stride-2 convolution as PhiNet pads it (stem and blocks): ceil(size / 2)."""
    return -(-size // 2)


@dataclass(frozen=True)
class BlockSpec:
    """One PhiNet block. Block 0 has no expansion and no squeeze-excite; blocks 1..N do.

    Widths are ints for one configuration, int64 arrays broadcast over many.
    ``expanded`` is the depthwise width (``in_channels`` for block 0); ``se_channels``
    is None without squeeze-excite; ``residual`` is a bool (array).
    """

    index: int
    in_channels: Any
    expanded: Any
    se_channels: Any
    out_channels: Any
    stride: int
    residual: Any

    @property
    def has_expansion(self) -> bool:
        return self.index > 0


@dataclass(frozen=True)
class Widths:
    """Stem width and every block of one (or many, broadcast) PhiNet configuration."""

    stem_channels: Any
    blocks: tuple[BlockSpec, ...]

    @property
    def last_channels(self) -> Any:
        """Width the classifier sees (micromind's ``int(block_filters * alpha)``)."""
        return self.blocks[-1].out_channels


def _block(
    index: int,
    in_channels,
    out_channels,
    stride: int,
    t0,
    beta,
    num_layers: int,
    divisor: int,
    squeeze_excite: bool,
    residuals: bool,
) -> BlockSpec:
    if index == 0:
        expanded = in_channels
        se_channels = None
    else:
        factor = expansion_factor(t0, beta, index, num_layers)
        expanded = width(factor * in_channels, divisor)
        se_channels = (
            make_divisible(_maximum(1, _trunc(expanded / 6)), divisor) if squeeze_excite else None
        )
    residual = (in_channels == out_channels) & (residuals and stride == 1)
    return BlockSpec(index, in_channels, expanded, se_channels, out_channels, stride, residual)


def phinet_widths(
    alpha,
    beta,
    t0,
    num_layers: int,
    *,
    divisor: int = 1,
    downsampling_layers=(5, 7),
    squeeze_excite: bool = True,
    residuals: bool = True,
) -> Widths:
    """All widths of PhiNet(alpha, beta, t0, N); alpha, beta, t0 are Python numbers or
    float64 arrays (broadcast together).

    Blocks 1-3 are always built (even for N < 3); blocks 4..N follow, a stride-2 block at
    every index in ``downsampling_layers``, where the base width 48 doubles.
    """
    common = dict(
        t0=t0,
        beta=beta,
        num_layers=num_layers,
        divisor=divisor,
        squeeze_excite=squeeze_excite,
        residuals=residuals,
    )
    stem = width(FIRST_CONV_FILTERS * alpha, divisor)
    c1 = width(BLOCK1_FILTERS * alpha, divisor)
    c2 = width(BLOCK2_FILTERS * alpha, divisor)
    blocks = [
        _block(0, stem, c1, 1, **common),
        _block(1, c1, c1, 2, **common),
        _block(2, c1, c1, 1, **common),
        _block(3, c1, c2, 2, **common),
    ]
    filters = BLOCK2_FILTERS
    in_channels = c2
    for index in range(4, num_layers + 1):
        stride = 2 if index in downsampling_layers else 1
        if stride == 2:
            filters *= 2
        out_channels = width(filters * alpha, divisor)
        blocks.append(_block(index, in_channels, out_channels, stride, **common))
        in_channels = out_channels
    return Widths(stem, tuple(blocks))
