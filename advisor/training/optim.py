"""The optimiser and the learning-rate schedule of a recipe."""

from __future__ import annotations

import math

import torch
from torch import nn

from advisor.errors import AdvisorError
from advisor.training.recipe import Recipe


def parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on convolution and linear weights only, not on biases or BatchNorm
    (timm's convention, which the study's recipe came through)."""
    decay, no_decay = [], []
    for parameter in model.parameters():
        if parameter.requires_grad:
            (decay if parameter.ndim > 1 else no_decay).append(parameter)
    return [
        {"params": decay, "weight_decay": weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]


def build_optimizer(model: nn.Module, recipe: Recipe) -> torch.optim.Optimizer:
    groups = parameter_groups(model, recipe.weight_decay)
    if recipe.optimizer == "lamb":
        try:
            from torch_optimizer import Lamb
        except ImportError:
            raise AdvisorError(
                "the Lamb optimizer needs the torch-optimizer package: pip "
                "install torch-optimizer==0.3.0 (or use --optimizer adamw)"
            ) from None
        return Lamb(groups, lr=recipe.lr, betas=(0.9, 0.999), eps=1e-6)
    if recipe.optimizer == "adamw":
        return torch.optim.AdamW(groups, lr=recipe.lr)
    return torch.optim.SGD(groups, lr=recipe.lr, momentum=0.9, nesterov=True)


def learning_rate(
    step: int, total_steps: int, warmup_steps: int, lr: float, min_lr: float
) -> float:
    """Linear warm-up to ``lr`` over ``warmup_steps``, then a cosine down to ``min_lr`` at
    ``total_steps``. ``step`` counts from 0."""
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min(1.0, progress)))
