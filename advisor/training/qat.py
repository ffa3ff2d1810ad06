"""Quantization-aware fine-tuning: a trained PhiNet trained a little more through the
simulated int8 graph (:class:`~advisor.training.fake_quant.QuantizedPhiNet`), so that its
weights and activation ranges suit int8.

A short schedule (by default 3 % of the training epochs, at least one) at a small learning
rate (the recipe's optimiser, ``lr_factor`` x its peak lr, cosine to zero), BatchNorm frozen,
the same augmentation as training, no dropout. Every epoch writes ``qat_last.pt`` in the run directory
(atomically); ``resume=True`` continues from it with the same weights, ranges, optimiser
and RNG streams.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from advisor.errors import AdvisorError
from advisor.training import checkpoint
from advisor.training.augment import augment, channel_stats, to_input
from advisor.training.fake_quant import RANGE_METHODS, QuantizedPhiNet
from advisor.training.optim import build_optimizer, learning_rate
from advisor.training.phinet import PhiNet
from advisor.training.recipe import Recipe

CHECKPOINT = "qat_last.pt"
QAT_EPOCH_SHARE = 0.03  # of the training epochs


@dataclass(frozen=True)
class QATSettings:
    """``epochs`` of ``steps_per_epoch`` optimiser steps (None: one pass over the training
    images); ``lr_factor`` scales the recipe's peak learning rate; ``range_method`` chooses
    the activation ranges the fine-tuning starts from (they then follow the batches by a
    moving average with ``momentum``; percentile starts measured closer to the float model's
    predictions than min/max on CIFAR-10). The loss is ``distillation`` x the KL divergence from
    the float model's predictions (the int8 model learns to predict what the float one does)
    plus (1 - ``distillation``) x the cross-entropy with the labels."""

    epochs: int = 1
    steps_per_epoch: int | None = None
    lr_factor: float = 0.05
    range_method: str = "percentile"
    momentum: float = 0.01
    distillation: float = 1.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise AdvisorError(f"QAT epochs must be an integer >= 1, got {self.epochs!r}")
        if self.steps_per_epoch is not None and self.steps_per_epoch < 1:
            raise AdvisorError(f"QAT steps per epoch must be >= 1, got {self.steps_per_epoch!r}")
        if not 0 < self.lr_factor <= 1:
            raise AdvisorError(f"QAT lr_factor must be in (0, 1], got {self.lr_factor!r}")
        if self.range_method not in RANGE_METHODS:
            raise AdvisorError(
                f"unknown range method {self.range_method!r}; choose one of {RANGE_METHODS}"
            )
        if not 0 <= self.distillation <= 1:
            raise AdvisorError(
                f"QAT distillation weight must be in [0, 1], got {self.distillation!r}"
            )
        if not 0 < self.momentum <= 1:
            raise AdvisorError(f"QAT range momentum must be in (0, 1], got {self.momentum!r}")

    @classmethod
    def for_training(cls, training_epochs: int, **overrides: Any) -> QATSettings:
        """3 % of the training epochs, at least one."""
        epochs = max(1, round(QAT_EPOCH_SHARE * training_epochs))
        return cls(**{"epochs": epochs, **overrides})

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QATResult:
    model: QuantizedPhiNet  # fine-tuned, in eval mode, quantizing with the learned ranges
    ranges: dict[str, tuple[float, float]]
    epochs_completed: int
    seconds: float  # wall time of the fine-tuning, all sessions
    history: list[dict]
    checkpoint: Path

    def to_dict(self) -> dict[str, Any]:
        return {
            "epochs_completed": self.epochs_completed,
            "seconds": round(self.seconds, 1),
            "history": self.history,
            "checkpoint": str(self.checkpoint),
        }


def finetune(
    model: PhiNet,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    calibration: np.ndarray,
    *,
    mean: tuple[float, ...],
    std: tuple[float, ...],
    recipe: Recipe,
    out_dir: str | Path,
    settings: QATSettings | None = None,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> QATResult:
    """Fine-tune a copy of ``model`` through the simulated int8 graph.

    ``train_images`` are uint8 (N, C, H, W) as in training, ``calibration`` (N, C, R, R)
    preprocessed float images that set the starting ranges. Writes ``out_dir/qat_last.pt``
    after every epoch; with ``resume`` an existing one is continued (same settings needed).
    """
    settings = settings or QATSettings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / CHECKPOINT
    if path.exists() and not resume:
        raise AdvisorError(
            f"{path} holds a QAT run already; pass --resume to continue it or use another --out"
        )
    saved = checkpoint.read(path) if resume and path.exists() else None
    if saved is not None and saved["qat"] != settings.to_dict():
        raise AdvisorError(
            f"the QAT run in {path} used other settings ({saved['qat']}); resume with the same "
            "settings or remove the file"
        )
    state_dict = {k: v.clone() for k, v in model.state_dict().items()}
    teacher = PhiNet(model.config)
    teacher.load_state_dict(state_dict)
    teacher.eval()
    student = PhiNet(model.config)
    student.load_state_dict(state_dict)
    qmodel = QuantizedPhiNet(student, momentum=settings.momentum)
    with _seeded(settings.seed):
        qmodel.calibrate(
            (torch.from_numpy(calibration[i : i + 64]) for i in range(0, len(calibration), 64)),
            settings.range_method,
        )
    optimizer = build_optimizer(qmodel, recipe.replace(lr=recipe.lr * settings.lr_factor))
    shuffle = torch.Generator().manual_seed(settings.seed + 11)
    augmentation = torch.Generator().manual_seed(settings.seed + 12)
    epoch, seconds, history = 0, 0.0, []
    if saved is not None:
        qmodel.load_state_dict(saved["model_state"])
        optimizer.load_state_dict(saved["optimizer_state"])
        shuffle.set_state(saved["generators"]["shuffle"])
        augmentation.set_state(saved["generators"]["augmentation"])
        epoch, seconds, history = saved["epoch"], saved["seconds"], saved["history"]
    batch = min(recipe.batch_size, len(train_labels))
    per_pass = len(train_labels) // batch
    steps = settings.steps_per_epoch or per_pass
    total = steps * settings.epochs
    scale, shift = channel_stats(mean, std, "cpu")
    peak = recipe.lr * settings.lr_factor
    while epoch < settings.epochs:
        session = time.perf_counter()
        qmodel.train()
        order = torch.randperm(len(train_labels), generator=shuffle)
        loss_sum = correct = seen = 0
        for step in range(steps):
            start = (step % per_pass) * batch
            index = order[start : start + batch]
            x = augment(
                train_images[index],
                scale,
                shift,
                recipe.resolution,
                generator=augmentation,
                hflip=recipe.hflip,
                rotation_degrees=recipe.rotation_degrees,
                zoom=recipe.zoom,
            )
            y = train_labels[index]
            lr = learning_rate(epoch * steps + step, total, 0, peak, 0.0)
            for group in optimizer.param_groups:
                group["lr"] = lr
            logits = qmodel(x)
            loss = _loss(logits, y, teacher, x, settings.distillation)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if not math.isfinite(loss.item()):
                raise AdvisorError("QAT diverged (the loss is not finite); lower the QAT lr factor")
            loss_sum += loss.item() * len(y)
            correct += int((logits.detach().argmax(1) == y).sum())
            seen += len(y)
        epoch += 1
        seconds += time.perf_counter() - session
        record = {
            "epoch": epoch,
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "seconds": round(seconds, 1),
        }
        history.append(record)
        checkpoint.save_atomic(
            {
                "format": checkpoint.FORMAT,
                "kind": "qat",
                "qat": settings.to_dict(),
                "config": model.config.to_dict(),
                "model_state": qmodel.state_dict(),
                "optimizer_state": optimizer.state_dict(),
                "generators": {
                    "shuffle": shuffle.get_state(),
                    "augmentation": augmentation.get_state(),
                },
                "epoch": epoch,
                "seconds": seconds,
                "history": history,
            },
            path,
        )
        if log:
            log(
                f"QAT epoch {epoch}/{settings.epochs}: train loss {record['train_loss']:.4f} "
                f"acc {100 * record['train_accuracy']:.2f}% (measured: simulated int8), "
                f"{seconds:.0f} s"
            )
    qmodel.eval()
    return QATResult(qmodel, qmodel.ranges(), epoch, seconds, history, path)


def _loss(
    logits: torch.Tensor, labels: torch.Tensor, teacher: PhiNet, x: torch.Tensor, weight: float
) -> torch.Tensor:
    loss = torch.zeros((), dtype=logits.dtype)
    if weight < 1:
        loss = loss + (1 - weight) * F.cross_entropy(logits, labels)
    if weight > 0:
        with torch.no_grad():
            target = F.log_softmax(teacher(x), dim=1)
        kl = F.kl_div(F.log_softmax(logits, dim=1), target, log_target=True, reduction="batchmean")
        loss = loss + weight * kl
    return loss


@torch.no_grad()
def quantized_logits(qmodel: QuantizedPhiNet, images: np.ndarray) -> np.ndarray:
    """Logits of the simulated int8 graph for preprocessed (N, C, R, R) float images."""
    was_training = qmodel.training
    qmodel.eval()
    try:
        return np.concatenate(
            [
                qmodel(torch.from_numpy(images[i : i + 256])).numpy()
                for i in range(0, len(images), 256)
            ]
        )
    finally:
        qmodel.train(was_training)


def preprocess(
    images: torch.Tensor, mean: tuple[float, ...], std: tuple[float, ...], resolution: int
) -> np.ndarray:
    """uint8 (N, C, H, W) -> normalised float (N, C, R, R), as the network sees them."""
    scale, shift = channel_stats(mean, std, "cpu")
    return np.concatenate(
        [
            to_input(images[i : i + 256], scale, shift, resolution).numpy()
            for i in range(0, len(images), 256)
        ]
    )


@contextlib.contextmanager
def _seeded(seed: int):
    saved = torch.get_rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        torch.set_rng_state(saved)
