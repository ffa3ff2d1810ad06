"""Multinomial logistic regression on standardized features: the linear probe.

The objective is the mean softmax cross-entropy plus ``l2 / 2 * ||W||^2`` (the bias is not
penalized), on features standardized with the training set's mean and standard deviation.
It is convex; full-batch L-BFGS (scipy's L-BFGS-B, with the analytic gradient computed by
torch in float64) solves it to its unique minimum. torch.optim is not used: its first
optimizer imports torch._dynamo, seconds of start-up for a millisecond fit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.optimize import minimize

from advisor.errors import AdvisorError

DEFAULT_L2 = 1e-3
DEFAULT_MAX_ITER = 500


@dataclass(frozen=True)
class LogisticProbe:
    """A fitted probe: standardization (mean, scale) then logits = x @ weight + bias."""

    mean: torch.Tensor
    scale: torch.Tensor
    weight: torch.Tensor  # (channels, classes)
    bias: torch.Tensor  # (classes,)
    iterations: int
    converged: bool  # False: stopped at max_iter before the optimum

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        standardized = (features.to(torch.float64) - self.mean) / self.scale
        return standardized @ self.weight + self.bias

    def predict_proba(self, features: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.logits(features), dim=1)

    def loss(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        """Mean cross-entropy in nats (no penalty term)."""
        return float(F.cross_entropy(self.logits(features), labels.long()))

    def accuracy(self, features: torch.Tensor, labels: torch.Tensor) -> float:
        return float((self.logits(features).argmax(dim=1) == labels.long()).double().mean())


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """A probe is a small dense problem: with several intra-op threads most of the time goes
    to synchronising them (measured 1.9 s on 1 thread vs 33 s on 2 on a loaded 2-core host)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def fit_logistic_probe(
    features: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    *,
    l2: float = DEFAULT_L2,
    max_iter: int = DEFAULT_MAX_ITER,
) -> LogisticProbe:
    """Fit the probe on (N, C) ``features`` and integer ``labels`` in [0, num_classes)."""
    if features.dim() != 2:
        raise AdvisorError(
            f"probe features must be (samples, channels), got {tuple(features.shape)}"
        )
    labels = labels.long()
    if len(labels) != len(features) or len(labels) == 0:
        raise AdvisorError(
            f"probe needs as many labels as feature rows (got {len(labels)} and {len(features)})"
        )
    if num_classes < 2:
        raise AdvisorError(f"a probe needs at least 2 classes, got {num_classes}")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise AdvisorError(
            f"labels must lie in [0, {num_classes}), got [{int(labels.min())}, {int(labels.max())}]"
        )
    if not l2 >= 0:
        raise AdvisorError(f"l2 must be >= 0, got {l2}")
    if max_iter < 1:
        raise AdvisorError(f"max_iter (epochs) must be >= 1, got {max_iter}")

    x = features.to(torch.float64)
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False)
    scale = torch.where(std > 1e-12, std, torch.ones_like(std))  # constant channels stay 0
    x = (x - mean) / scale
    onehot = F.one_hot(labels, num_classes).to(torch.float64)
    channels, count = x.shape[1], len(labels)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weight = torch.from_numpy(theta[: channels * num_classes]).view(channels, num_classes)
        bias = torch.from_numpy(theta[channels * num_classes :])
        log_p = torch.log_softmax(x @ weight + bias, dim=1)
        value = -(onehot * log_p).sum() / count + 0.5 * l2 * weight.square().sum()
        residual = (log_p.exp() - onehot) / count
        gradient = torch.cat([(x.T @ residual + l2 * weight).flatten(), residual.sum(dim=0)])
        return float(value), gradient.numpy()

    with one_thread():
        result = minimize(
            objective,
            np.zeros(channels * num_classes + num_classes),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": max_iter, "gtol": 1e-7, "ftol": 1e-11},
        )
    theta = torch.from_numpy(result.x)
    return LogisticProbe(
        mean=mean,
        scale=scale,
        weight=theta[: channels * num_classes].view(channels, num_classes).clone(),
        bias=theta[channels * num_classes :].clone(),
        iterations=int(result.nit),
        converged=bool(result.success),
    )
