"""The probe on raw features is plain multinomial logistic regression: it matches an
independent fit of the same objective: numpy for the loss and gradient, scipy's BFGS (the probe
uses torch and L-BFGS-B)."""

import numpy as np
import pytest
import torch
from scipy.optimize import minimize
from scipy.special import log_softmax

from advisor.errors import AdvisorError
from advisor.probe.logistic import fit_logistic_probe


def scipy_logistic_regression(x, y, classes, l2):
    """Mean softmax cross-entropy + l2/2 ||W||^2 on standardized x, by BFGS."""
    mean, std = x.mean(axis=0), x.std(axis=0)
    z = (x - mean) / std
    onehot = np.eye(classes)[y]
    channels = z.shape[1]

    def objective(theta):
        weight = theta[: channels * classes].reshape(channels, classes)
        bias = theta[channels * classes :]
        log_p = log_softmax(z @ weight + bias, axis=1)
        value = -np.mean(np.sum(onehot * log_p, axis=1)) + 0.5 * l2 * np.sum(weight**2)
        residual = (np.exp(log_p) - onehot) / len(y)
        gradient = np.concatenate([(z.T @ residual + l2 * weight).ravel(), residual.sum(axis=0)])
        return value, gradient

    result = minimize(
        objective,
        np.zeros(channels * classes + classes),
        jac=True,
        method="BFGS",
        options={"maxiter": 5000, "gtol": 1e-9},
    )
    weight = result.x[: channels * classes].reshape(channels, classes)
    log_p = log_softmax(z @ weight + result.x[channels * classes :], axis=1)

    def predict_proba(features):
        return np.exp(
            log_softmax(((features - mean) / std) @ weight + result.x[channels * classes :], axis=1)
        )

    return -np.mean(np.sum(onehot * log_p, axis=1)), predict_proba


@pytest.mark.parametrize("l2", [1e-3, 0.1])
def test_probe_matches_scipy_logistic_regression(l2):
    rng = np.random.default_rng(0)
    classes, per_class = 3, 120
    centres = rng.normal(size=(classes, 6))
    x = np.concatenate([centres[k] + 1.5 * rng.normal(size=(per_class, 6)) for k in range(classes)])
    x = x * np.array([1, 10, 0.1, 3, 50, 1]) + np.array([0, 5, -2, 100, 0, 1])  # unequal scales
    y = np.repeat(np.arange(classes), per_class)
    held_out = centres[1] + 1.5 * rng.normal(size=(50, 6))
    held_out = held_out * np.array([1, 10, 0.1, 3, 50, 1]) + np.array([0, 5, -2, 100, 0, 1])

    reference_loss, reference_proba = scipy_logistic_regression(x, y, classes, l2)
    probe = fit_logistic_probe(torch.tensor(x), torch.tensor(y), classes, l2=l2, max_iter=500)

    assert 0.05 < reference_loss < 1.0  # overlapping classes: a non-trivial optimum
    assert probe.loss(torch.tensor(x), torch.tensor(y)) == pytest.approx(reference_loss, abs=1e-6)
    np.testing.assert_allclose(
        probe.predict_proba(torch.tensor(held_out)).numpy(), reference_proba(held_out), atol=1e-4
    )


def test_constant_channel_is_ignored_not_divided_by_zero():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(200, 2))
    y = (x[:, 0] > 0).astype(int)
    with_constant = np.concatenate([x, np.full((200, 1), 7.0)], axis=1)
    plain = fit_logistic_probe(torch.tensor(x), torch.tensor(y), 2)
    padded = fit_logistic_probe(torch.tensor(with_constant), torch.tensor(y), 2)
    assert padded.loss(torch.tensor(with_constant), torch.tensor(y)) == pytest.approx(
        plain.loss(torch.tensor(x), torch.tensor(y)), abs=1e-8
    )


def test_labels_outside_the_classes_are_rejected():
    with pytest.raises(AdvisorError, match=r"labels must lie in \[0, 2\)"):
        fit_logistic_probe(torch.zeros(4, 3), torch.tensor([0, 1, 2, 1]), 2)
