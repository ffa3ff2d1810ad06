"""One linear probe per block of a frozen network: the study's fig. 4.3 in numbers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

import torch

from advisor import provenance
from advisor.errors import AdvisorError
from advisor.probe.curve import MONOTONE_TOLERANCE, CurveShape, curve_shape
from advisor.probe.features import block_names, pooled_block_features
from advisor.probe.logistic import DEFAULT_L2, DEFAULT_MAX_ITER, fit_logistic_probe, one_thread

PROBE_SOURCE = provenance.LINEAR_PROBE


@dataclass(frozen=True)
class BlockProbe:
    index: int
    name: str
    channels: int
    train_loss: float
    train_accuracy: float
    test_loss: float
    test_accuracy: float
    iterations: int
    converged: bool


@dataclass(frozen=True)
class ProbeReport:
    blocks: tuple[BlockProbe, ...]
    train_images: int
    test_images: int
    num_classes: int
    l2: float
    max_iter: int
    details: dict = field(default_factory=dict)  # where the model and data came from

    @property
    def test_losses(self) -> list[float]:
        return [block.test_loss for block in self.blocks]

    @property
    def shape(self) -> CurveShape:
        return curve_shape(self.test_losses)

    def to_dict(self) -> dict:
        shape = self.shape
        return {
            **self.details,
            "blocks": [asdict(block) for block in self.blocks],
            "monotone_loss": shape.monotone,
            "monotone_tolerance": MONOTONE_TOLERANCE,
            "shape": shape.to_dict(),
            "train_images": self.train_images,
            "test_images": self.test_images,
            "num_classes": self.num_classes,
            "l2": self.l2,
            "epochs": self.max_iter,
            "source": PROBE_SOURCE,
        }


def probe_features(
    train_features: Sequence[torch.Tensor],
    train_labels: torch.Tensor,
    test_features: Sequence[torch.Tensor],
    test_labels: torch.Tensor,
    *,
    num_classes: int,
    names: Sequence[str] | None = None,
    l2: float = DEFAULT_L2,
    max_iter: int = DEFAULT_MAX_ITER,
    details: dict | None = None,
) -> ProbeReport:
    """Fit a probe on each block's cached train features; score it on the test features."""
    if len(train_features) != len(test_features) or not train_features:
        raise AdvisorError("train and test features must list the same, non-zero number of blocks")
    names = (
        list(names) if names is not None else [f"output {i}" for i in range(len(train_features))]
    )
    blocks = []
    for index, (train, test) in enumerate(zip(train_features, test_features)):
        probe = fit_logistic_probe(train, train_labels, num_classes, l2=l2, max_iter=max_iter)
        with one_thread():
            blocks.append(
                BlockProbe(
                    index=index,
                    name=names[index],
                    channels=int(train.shape[1]),
                    train_loss=probe.loss(train, train_labels),
                    train_accuracy=probe.accuracy(train, train_labels),
                    test_loss=probe.loss(test, test_labels),
                    test_accuracy=probe.accuracy(test, test_labels),
                    iterations=probe.iterations,
                    converged=probe.converged,
                )
            )
    return ProbeReport(
        blocks=tuple(blocks),
        train_images=len(train_labels),
        test_images=len(test_labels),
        num_classes=num_classes,
        l2=l2,
        max_iter=max_iter,
        details=dict(details or {}),
    )


def probe_model(
    model: torch.nn.Module,
    train_images: torch.Tensor,
    train_labels: torch.Tensor,
    test_images: torch.Tensor,
    test_labels: torch.Tensor,
    *,
    num_classes: int,
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 128,
    l2: float = DEFAULT_L2,
    max_iter: int = DEFAULT_MAX_ITER,
    details: dict | None = None,
) -> ProbeReport:
    """Probe every block of ``model`` (anything with ``forward_blocks``): one frozen pass
    over each split, then one probe per block on the cached pooled features."""
    train = pooled_block_features(model, train_images, prepare=prepare, batch_size=batch_size)
    test = pooled_block_features(model, test_images, prepare=prepare, batch_size=batch_size)
    return probe_features(
        train,
        train_labels,
        test,
        test_labels,
        num_classes=num_classes,
        names=block_names(model, len(train)),
        l2=l2,
        max_iter=max_iter,
        details=details,
    )
