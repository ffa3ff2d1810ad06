"""Multinomial logistic regression on standardized features: the linear probe.

The objective is the mean softmax cross-entropy plus ``l2 / 2 * ||W||^2`` (the bias is not
penalized), on features standardized with the training set's mean and standard deviation.
It is convex; full-batch L-BFGS in float64 solves it to its unique minimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from advisor.errors import AdvisorError

DEFAULT_L2 = 1e-3
DEFAULT_MAX_ITER = 200


@dataclass(frozen=True)
class LogisticProbe:
    """A fitted probe: standardization (mean, scale) then logits = x @ weight + bias."""

    mean: torch.Tensor
    scale: torch.Tensor
    weight: torch.Tensor  # (channels, classes)
    bias: torch.Tensor  # (classes,)
    iterations: int

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
        raise AdvisorError(f"probe features must be (samples, channels), got {tuple(features.shape)}")
    labels = labels.long()
    if len(labels) != len(features) or len(labels) == 0:
        raise AdvisorError(
            f"probe needs as many labels as feature rows (got {len(labels)} and {len(features)})")
    if num_classes < 2:
        raise AdvisorError(f"a probe needs at least 2 classes, got {num_classes}")
    if int(labels.min()) < 0 or int(labels.max()) >= num_classes:
        raise AdvisorError(f"labels must lie in [0, {num_classes}), got "
                           f"[{int(labels.min())}, {int(labels.max())}]")
    if not l2 >= 0:
        raise AdvisorError(f"l2 must be >= 0, got {l2}")
    if max_iter < 1:
        raise AdvisorError(f"max_iter (epochs) must be >= 1, got {max_iter}")

    x = features.to(torch.float64)
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False)
    scale = torch.where(std > 1e-12, std, torch.ones_like(std))  # constant channels stay 0
    x = (x - mean) / scale
    weight = torch.zeros(x.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [weight, bias], lr=1.0, max_iter=max_iter, history_size=20,
        tolerance_grad=1e-9, tolerance_change=1e-12, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimizer.zero_grad()
        value = F.cross_entropy(x @ weight + bias, labels) + 0.5 * l2 * weight.pow(2).sum()
        value.backward()
        return value

    optimizer.step(objective)
    iterations = int(optimizer.state[optimizer._params[0]].get("n_iter", 0))
    return LogisticProbe(mean=mean, scale=scale, weight=weight.detach(), bias=bias.detach(),
                         iterations=iterations)
