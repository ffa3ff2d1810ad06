"""Synthetic results tables from known curves (imported by the scaling tests)."""

import numpy as np

from advisor.scaling import from_rows

# acc = c - a / sqrt(P): crossovers where (a_m - a_n) / (c_m - c_n) = sqrt(P):
# 4 -> 5 at 2,500, 5 -> 7 at 10,000, 7 -> 9 at 1,000,000 (the study's published rule)
TRUE_CURVES = {
    4: (500.0, 0.5, 70.0),
    5: (1000.0, 0.5, 80.0),
    7: (1800.0, 0.5, 88.0),
    9: (5800.0, 0.5, 92.0),
}
TRUE_CROSSOVERS = (2500.0, 10000.0, 1e6)
PARAM_RANGES = {4: (5e2, 1e5), 5: (1e3, 3e5), 7: (3e3, 3e6), 9: (3e4, 1e7)}


def generalized_hyperbolic(params, a, phi, c):
    return c - a * np.asarray(params, dtype=float) ** -phi


def synthetic_rows(
    curves=TRUE_CURVES, ranges=PARAM_RANGES, per_n=45, noise=0.5, seed=0, resolution=160, epochs=110
):
    rng = np.random.default_rng(seed)
    rows = []
    for n, (a, phi, c) in curves.items():
        low, high = ranges[n]
        for params in 10 ** rng.uniform(np.log10(low), np.log10(high), per_n):
            accuracy = generalized_hyperbolic(params, a, phi, c) + rng.normal(0, noise)
            rows.append(
                dict(
                    alpha=0.5,
                    beta=1.0,
                    t0=6,
                    N=n,
                    resolution=resolution,
                    dataset="CIFAR-10",
                    epochs=epochs,
                    params=round(params),
                    accuracy=float(np.clip(accuracy, 0, 100)),
                    source="synthetic",
                )
            )
    return rows


def synthetic_table(**kwargs):
    return from_rows(synthetic_rows(**kwargs), "synthetic")
