"""Accuracy and loss of a model on a labelled image set, batched on any device."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from advisor.errors import AdvisorError
from advisor.training.augment import channel_stats, to_input


@dataclass(frozen=True)
class Evaluation:
    accuracy: float  # top-1, a fraction in [0, 1]
    loss: float  # mean cross-entropy
    count: int


def autocast(device: torch.device, enabled: bool = True):
    if device.type == "cuda" and enabled:
        return torch.autocast(device_type="cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


@torch.no_grad()
def evaluate(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    *,
    mean: Sequence[float],
    std: Sequence[float],
    resolution: int | None = None,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    bf16: bool = True,
) -> Evaluation:
    """Top-1 accuracy and mean cross-entropy of ``model`` on uint8 ``images`` (N, C, H, W),
    normalised with ``mean``/``std`` (0..1 scale, per channel) and resized to ``resolution``
    (default: the images' size). The model's train/eval mode is restored afterwards."""
    device = torch.device(device) if device else next(model.parameters()).device
    resolution = resolution or int(images.shape[-1])
    if len(labels) == 0:
        raise AdvisorError("evaluate() got no images")
    scale, shift = channel_stats(mean, std, device)
    loss_sum = torch.zeros((), dtype=torch.float64, device=device)
    correct = torch.zeros((), dtype=torch.int64, device=device)
    was_training = model.training
    model.eval()
    try:
        for start in range(0, len(labels), batch_size):
            x = to_input(images[start : start + batch_size].to(device), scale, shift, resolution)
            y = labels[start : start + batch_size].to(device)
            with autocast(device, bf16):
                logits = model(x)
            loss_sum += F.cross_entropy(logits.float(), y, reduction="sum")
            correct += (logits.argmax(1) == y).sum()
    finally:
        model.train(was_training)
    return Evaluation(correct.item() / len(labels), loss_sum.item() / len(labels), len(labels))
