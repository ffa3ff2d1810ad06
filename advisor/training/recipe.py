"""How a PhiNet is trained: the study's recipe and its overrides."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from advisor.errors import AdvisorError

OPTIMIZERS = ("lamb", "adamw", "sgd")
# The study's schedule: 110 epochs, the first 10 a linear warm-up. `Recipe.study` scales the
# warm-up with the epochs.
STUDY_EPOCHS, STUDY_WARMUP_EPOCHS = 110, 10
SPLITS = ("70/15/15", "test+val")


def study_warmup_epochs(epochs: int) -> int:
    """The study's warm-up share (10 of 110 epochs) of ``epochs``, rounded."""
    if not isinstance(epochs, int) or isinstance(epochs, bool):
        raise AdvisorError(f"recipe epochs must be an integer >= 1, got {epochs!r}")
    return round(epochs * STUDY_WARMUP_EPOCHS / STUDY_EPOCHS)


@dataclass(frozen=True)
class Recipe:
    """Every setting of a training run. The defaults are the study's (the
    270-network PhiNet scaling study this tool implements: CIFAR-10 at 160x160, Lamb, lr 0.01).

    ``epochs`` counts every epoch, warm-up included: the study's 10 warm-up epochs plus 100
    epochs of cosine decay are ``epochs=110, warmup_epochs=10``. The learning rate rises
    linearly over the warm-up steps, then follows a cosine from ``lr`` down to ``min_lr``.

    ``split`` is "70/15/15" (the study: train, validation and test pooled and re-split,
    stratified) or "test+val" (the dataset's own test set, and a stratified ``val_fraction`` of
    the training set for validation). Splits are seeded by ``seed``, as are initialisation,
    shuffling and augmentation.

    Augmentation runs on whole batches on the training device: horizontal flips,
    rotations up to ``rotation_degrees`` and zoom by a factor in [1 - zoom, 1 + zoom].
    ``bf16`` enables bfloat16 autocast on CUDA (ignored on CPU). ``num_workers`` is the number
    of threads that decode images the first time a data set is read.

    The study states the optimiser, lr, schedule, augmentation kinds and split. It does not
    state the batch size, weight decay or augmentation magnitudes: batch 64 and weight decay
    0.02 are micromind's CIFAR-10 recipe's; 10 degrees and 10 % zoom are this tool's choice of
    "small".
    """

    epochs: int = STUDY_EPOCHS
    warmup_epochs: int = STUDY_WARMUP_EPOCHS
    batch_size: int = 64
    lr: float = 0.01
    min_lr: float = 0.0
    weight_decay: float = 0.02
    optimizer: str = "lamb"
    resolution: int = 160
    split: str = "70/15/15"
    val_fraction: float = 0.1
    seed: int = 0
    hflip: bool = True
    rotation_degrees: float = 10.0
    zoom: float = 0.1
    label_smoothing: float = 0.0
    bf16: bool = True
    eval_batch_size: int = 256
    num_workers: int = 2

    def __post_init__(self) -> None:
        for name, low in (
            ("epochs", 1),
            ("warmup_epochs", 0),
            ("batch_size", 1),
            ("resolution", 8),
            ("seed", 0),
            ("eval_batch_size", 1),
            ("num_workers", 0),
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise AdvisorError(f"recipe {name} must be an integer >= {low}, got {value!r}")
        if self.warmup_epochs >= self.epochs:
            raise AdvisorError(
                f"recipe warmup_epochs ({self.warmup_epochs}) must be smaller than epochs "
                f"({self.epochs}); lower --warmup-epochs or raise --epochs"
            )
        for name in ("lr", "min_lr", "weight_decay", "rotation_degrees", "zoom", "label_smoothing"):
            value = getattr(self, name)
            if (
                not isinstance(value, (int, float))
                or isinstance(value, bool)
                or not math.isfinite(value)
                or value < 0
            ):
                raise AdvisorError(f"recipe {name} must be a finite number >= 0, got {value!r}")
        if not self.lr > 0:
            raise AdvisorError(f"recipe lr must be positive, got {self.lr!r}")
        if self.min_lr > self.lr:
            raise AdvisorError(f"recipe min_lr ({self.min_lr}) must not exceed lr ({self.lr})")
        if not self.zoom < 1:
            raise AdvisorError(
                f"recipe zoom must be below 1 (a factor in [1 - zoom, 1 + zoom]), got {self.zoom!r}"
            )
        if not 0 < self.val_fraction < 1:
            raise AdvisorError(f"recipe val_fraction must be in (0, 1), got {self.val_fraction!r}")
        if self.optimizer not in OPTIMIZERS:
            raise AdvisorError(f"unknown optimizer {self.optimizer!r}; choose one of {OPTIMIZERS}")
        if self.split not in SPLITS:
            raise AdvisorError(f"unknown split {self.split!r}; choose one of {SPLITS}")

    @classmethod
    def study(cls, epochs: int = STUDY_EPOCHS, **overrides: Any) -> Recipe:
        """The study's recipe: Lamb, lr 0.01, 10 warm-up + 100 cosine epochs, 160x160, 70/15/15.

        With other ``epochs`` the warm-up keeps the study's share (10 of 110, rounded: none
        below 6 epochs) unless ``warmup_epochs`` is given."""
        overrides.setdefault("warmup_epochs", study_warmup_epochs(epochs))
        return cls(epochs=epochs, **overrides)

    @classmethod
    def quick(cls, **overrides: Any) -> Recipe:
        """A few epochs at CIFAR's native 32x32 for smoke runs on a CPU."""
        settings: dict[str, Any] = dict(
            epochs=3, warmup_epochs=0, batch_size=128, resolution=32, split="test+val"
        )
        settings.update(overrides)
        return cls(**settings)

    def replace(self, **changes: Any) -> Recipe:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Recipe:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AdvisorError(f"unknown recipe keys {unknown}; expected some of {sorted(known)}")
        return cls(**data)
