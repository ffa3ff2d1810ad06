"""The study's cross-validation: per N, K random 70 % / 30 % splits; fit on the 70 %, RMSE on
the 30 %; mean and spread per model per N, then the mean over N.

All models see the same splits (a paired comparison). Each fold's fit starts from the
full-data fit of that N (same p_ref) and falls back to one data-driven restart when that
fails (only when the full-data fit itself succeeded: a model that fails on all of an N's
data is tried once per fold, from where its full-data fit stopped). Failed folds (a fit
that did not converge or sits on a bound, or a prediction outside the model's domain) are
counted, with their reasons, and left out of the mean.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from advisor.errors import AdvisorError
from advisor.scaling.models import MODELS, fit_curve
from advisor.scaling.results import ResultsTable

DEFAULT_FOLDS = 500
TRAIN_FRACTION = 0.7


@dataclass(frozen=True)
class ModelCV:
    """One model's fold RMSEs: rmse[n] has one entry per fold, NaN where the fold failed."""

    rmse: dict[int, np.ndarray]
    failure_reasons: dict[int, Counter[str]] = field(default_factory=dict)

    def mean_by_n(self) -> dict[int, float]:
        return {n: _nanmean(v) for n, v in self.rmse.items()}

    def std_by_n(self) -> dict[int, float]:
        return {
            n: float(np.nanstd(v)) if np.isfinite(v).any() else math.nan
            for n, v in self.rmse.items()
        }

    def failed_by_n(self) -> dict[int, int]:
        return {n: int(np.sum(~np.isfinite(v))) for n, v in self.rmse.items()}

    def mean(self) -> float:
        """The mean over N of the per-N means; NaN when some N has no successful fold."""
        means = list(self.mean_by_n().values())
        return float(np.mean(means)) if means and all(np.isfinite(means)) else math.nan


@dataclass(frozen=True)
class CVResult:
    models: dict[str, ModelCV]
    folds: int
    seed: int
    n_points: dict[int, int]

    def ranking(self) -> list[str]:
        """Model names, lowest mean RMSE first (models with a NaN mean last)."""
        return sorted(
            self.models,
            key=lambda m: (not np.isfinite(self.models[m].mean()), self.models[m].mean()),
        )

    def to_dict(self) -> dict:
        def clean(x):
            return None if not np.isfinite(x) else round(float(x), 6)

        return {
            "folds": self.folds,
            "seed": self.seed,
            "train_fraction": TRAIN_FRACTION,
            "points_by_n": {str(n): k for n, k in self.n_points.items()},
            "models": {
                name: {
                    "rmse_by_n": {str(n): clean(v) for n, v in cv.mean_by_n().items()},
                    "rmse_std_by_n": {str(n): clean(v) for n, v in cv.std_by_n().items()},
                    "failed_folds_by_n": {str(n): v for n, v in cv.failed_by_n().items()},
                    "failure_reasons": dict(sum(cv.failure_reasons.values(), Counter())),
                    "rmse_mean": clean(cv.mean()),
                }
                for name, cv in self.models.items()
            },
            "unit": "accuracy percentage points",
        }


def split_indices(n_points: int, folds: int, rng: np.random.Generator) -> list[np.ndarray]:
    """One random permutation per fold; the first round(0.7 n) indices are the train part."""
    return [rng.permutation(n_points) for _ in range(folds)]


def cross_validate(
    table: ResultsTable,
    models: tuple[str, ...] | list[str] = tuple(MODELS),
    folds: int = DEFAULT_FOLDS,
    seed: int = 0,
) -> CVResult:
    if folds < 1:
        raise AdvisorError(f"folds = {folds}: use at least 1 (the study used 500).")
    unknown = [m for m in models if m not in MODELS]
    if unknown:
        raise AdvisorError(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}.")
    rng = np.random.default_rng(seed)
    groups = table.by_n()
    needed = max(len(MODELS[m].theta_names) for m in models) + 1
    for n, (params, _) in groups.items():
        n_train = round(TRAIN_FRACTION * len(params))
        if n_train < needed or len(params) - n_train < 2:
            raise AdvisorError(
                f"{table.path}: N={n} has {len(params)} networks; a 70/30 split needs at least "
                f"{math.ceil((needed) / TRAIN_FRACTION)} so that every model can be fitted and "
                "tested. Add networks or drop that N from the table."
            )
    rmse: dict[str, dict[int, np.ndarray]] = {m: {} for m in models}
    reasons: dict[str, dict[int, Counter[str]]] = {m: {} for m in models}
    for n, (params, accuracy) in groups.items():
        splits = split_indices(len(params), folds, rng)
        for name in models:
            rmse[name][n], reasons[name][n] = fold_rmses(name, params, accuracy, splits)
    return CVResult(
        {m: ModelCV(rmse[m], reasons[m]) for m in models},
        folds,
        seed,
        {n: len(p) for n, (p, _) in groups.items()},
    )


def fold_rmses(
    name: str, params: np.ndarray, accuracy: np.ndarray, splits: list[np.ndarray]
) -> tuple[np.ndarray, Counter[str]]:
    """Test RMSE of one model on each split (NaN where the fold failed) and why folds failed."""
    n_train = round(TRAIN_FRACTION * len(params))
    full = fit_curve(name, params, accuracy)
    values = np.full(len(splits), np.nan)
    reasons: Counter[str] = Counter()
    for k, order in enumerate(splits):
        values[k], reason = _fold_rmse(
            name, params, accuracy, order[:n_train], order[n_train:], full
        )
        if reason:
            reasons[reason] += 1
    return values, reasons


def _fold_rmse(name, params, accuracy, train, test, full) -> tuple[float, str]:
    start = full.theta if np.all(np.isfinite(full.theta)) else None
    fit = fit_curve(
        name,
        params[train],
        accuracy[train],
        p_ref=full.p_ref,
        start=start,
        restarts=1 if full.ok else 0,
    )
    if not fit.ok:
        # "beta=1e-20 (lower bound 0)" -> "beta at lower bound": countable across folds
        return math.nan, re.sub(r"=\S+ \((lower|upper) bound [^)]*\)", r" at \1 bound", fit.reason)
    error = fit.predict(params[test]) - accuracy[test]
    if not np.all(np.isfinite(error)):
        return math.nan, "prediction undefined at a test point (outside the model's domain)"
    return float(np.sqrt(np.mean(error**2))), ""


def _nanmean(values: np.ndarray) -> float:
    return float(np.nanmean(values)) if np.isfinite(values).any() else math.nan
