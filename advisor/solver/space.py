"""The search space: the input the model takes and the grid of alpha, beta and t0 searched.

Why these ranges and steps:
- alpha 0.05 to 3.00 in steps of 0.005. Below 0.05 every layer of a PhiNet rounds to one or
  two channels; 3 is the widest PhiNet published on CIFAR-10 (micromind's card, 4.39 M
  parameters). A step of 0.005 moves the widest layer (192 alpha channels) by about one
  channel, so the grid reaches nearly every architecture the channel rounding can build.
- beta 0.50 to 1.50 in steps of 0.05: the study sampled 0.75 to 1.35; beta scales the
  expansion of the last block by beta, so this range spans a 3x spread of late-block width.
- t0 2 to 6 in steps of 0.25: 6 is the largest expansion the study and the published models
  use; below 2 the inverted residual block barely expands (MobileNetV2 uses 6). Lower t0
  buys width (alpha) under a RAM budget, since peak RAM grows with alpha x t0.
Every cost grows monotonically with alpha, beta and t0 (channel counts are floors of
increasing products), which lets the solver bisect alpha instead of scanning it. The arena
estimate also counts ops and tensors, which a residual ADD appearing or vanishing could
move either way; over this whole grid at N 4-9 and 24-160 px it never falls (checked).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from advisor.errors import AdvisorError
from advisor.validation import MAX_CHANNELS, MAX_CLASSES, MAX_RESOLUTION, integer

# The region the study trained networks in: predictions outside it are extrapolations.
STUDIED_RANGES = {"alpha": (0.15, 1.5), "beta": (0.75, 1.35), "t0": (4.0, 6.0)}


def _steps(low: float, high: float, step: float) -> np.ndarray:
    count = round((high - low) / step) + 1
    return np.round(low + step * np.arange(count), 6)


@dataclass(frozen=True)
class SearchSpace:
    """What is searched for one input shape: `resolution` (side of a square input),
    `in_channels`, `num_classes`, the candidate depths `num_layers`, and the grids of
    alpha, beta and t0."""

    resolution: int
    in_channels: int = 3
    num_classes: int = 10
    num_layers: tuple[int, ...] = (4, 5, 6, 7, 8, 9)
    alphas: tuple[float, ...] = tuple(_steps(0.05, 3.0, 0.005))
    betas: tuple[float, ...] = tuple(_steps(0.5, 1.5, 0.05))
    t0s: tuple[float, ...] = tuple(_steps(2.0, 6.0, 0.25))

    def __post_init__(self) -> None:
        for name, example, high in (
            ("resolution", "--resolution 160", MAX_RESOLUTION),
            ("in_channels", "--channels 3", MAX_CHANNELS),
            ("num_classes", "--classes 10", MAX_CLASSES),
        ):
            value = integer(getattr(self, name), name, low=1, high=high, fix=f"e.g. {example}")
            object.__setattr__(self, name, value)
        if not self.num_layers:
            raise AdvisorError("no candidate number of layers to search: the prior lists none")
        for name in ("alphas", "betas", "t0s"):
            grid = getattr(self, name)
            if not grid or min(grid) <= 0 or list(grid) != sorted(grid):
                raise AdvisorError(f"search grid {name} must be positive and ascending")

    def with_resolution(self, resolution: int) -> SearchSpace:
        return SearchSpace(
            resolution,
            self.in_channels,
            self.num_classes,
            self.num_layers,
            self.alphas,
            self.betas,
            self.t0s,
        )

    def coarse(self, every: int = 4) -> SearchSpace:
        """Every `every`-th value of each grid (alpha 0.02, beta 0.2, t0 1 apart by default):
        for surveys such as the alternatives, where the exact optimum is not needed."""
        return SearchSpace(
            self.resolution,
            self.in_channels,
            self.num_classes,
            self.num_layers,
            self.alphas[::every],
            self.betas[::every],
            self.t0s[::every],
        )
