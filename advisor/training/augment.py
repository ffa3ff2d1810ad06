"""uint8 image batches to network inputs, on the training device: normalisation, resampling to
the training resolution and (for training) flips, rotations and zoom in one grid_sample."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F


def channel_stats(
    mean: Sequence[float], std: Sequence[float], device: torch.device | str
) -> tuple[torch.Tensor, torch.Tensor]:
    """(scale, shift) so that ``x * scale - shift`` maps 0..255 to (x / 255 - mean) / std."""
    mean_t = torch.tensor(mean, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=device).view(1, -1, 1, 1)
    return 1.0 / (255.0 * std_t), mean_t / std_t


def to_input(
    images: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, resolution: int
) -> torch.Tensor:
    """Normalise uint8 (B, C, h, w) images and resize them bilinearly to ``resolution``."""
    x = images.float().mul_(scale).sub_(shift)
    if x.shape[-1] != resolution or x.shape[-2] != resolution:
        x = F.interpolate(x, size=(resolution, resolution), mode="bilinear", align_corners=False)
    return x


def augment(
    images: torch.Tensor,
    scale: torch.Tensor,
    shift: torch.Tensor,
    resolution: int,
    *,
    generator: torch.Generator,
    hflip: bool,
    rotation_degrees: float,
    zoom: float,
) -> torch.Tensor:
    """Normalised, randomly flipped / rotated / zoomed images at ``resolution``.

    Each image gets its own flip (p = 0.5), angle in [-rotation_degrees, rotation_degrees] and
    zoom factor in [1 - zoom, 1 + zoom]; areas outside the source are filled with the mean
    colour (zero after normalisation)."""
    if not (hflip or rotation_degrees or zoom):
        return to_input(images, scale, shift, resolution)
    x = images.float().mul_(scale).sub_(shift)
    batch = x.shape[0]
    draws = torch.rand(batch, 3, generator=generator, device=x.device)
    angle = (draws[:, 0] * 2 - 1) * math.radians(rotation_degrees)
    factor = 1 + (draws[:, 1] * 2 - 1) * zoom
    flip = torch.where(draws[:, 2] < 0.5, -1.0, 1.0) if hflip else torch.ones_like(factor)
    cos, sin = torch.cos(angle) / factor, torch.sin(angle) / factor
    zeros = torch.zeros_like(cos)
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, zeros], 1), torch.stack([sin * flip, cos, zeros], 1)], 1
    )
    grid = F.affine_grid(theta, [batch, x.shape[1], resolution, resolution], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
