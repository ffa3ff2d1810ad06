"""Literature curves: the study's generalized hyperbolic fitted per N to a handful of published
results, with a leave-one-out uncertainty that is never narrower than the study's CV RMSE.

Published PhiNet results are few (micromind's CIFAR-10 card: four N = 7 networks and one
N = 5), far too few for the study's 70/30 cross-validation (that needs ceil(4 / 0.7) = 6
networks per N). So, per N:
- fewer than MIN_POINTS = coefficients + 1 = 4 networks: no curve, no prediction;
- otherwise the generalized hyperbolic acc = c - a / P^phi (3 coefficients, so at 4 points one
  residual degree of freedom), and as its uncertainty the RMSE of the leave-one-out
  predictions (each network predicted by the exact interpolation of the others), floored at
  the study's cross-validated RMSE (0.758 %, about the noise of training itself).

Why this model and not a simpler one: on the four published N = 7 networks, leave-one-out RMSE
is 0.92 % for the generalized hyperbolic, 1.02 % for the hyperbolic (which sits at b -> 0, a
two-coefficient c - a / P), 2.44 % for the exponential and 4.59 % for the logarithmic (one
fold outside its domain). The study's winner also wins here, so no simpler model is used.
"""

from __future__ import annotations

import math

import numpy as np

from advisor.scaling.models import MODELS, fit_curve
from advisor.scaling.prior import regime_key
from advisor.scaling.results import ResultsTable

CURVE_MODEL = "generalized_hyperbolic"
MIN_POINTS = len(MODELS[CURVE_MODEL].theta_names) + 1


def rows_of_regime(table: ResultsTable, regime: dict) -> ResultsTable:
    """The rows of `table` trained in `regime` (its dataset, resolution and epochs)."""
    keep = np.ones(len(table), dtype=bool)
    for column in ("dataset", "resolution", "epochs"):
        wanted = regime_key(regime[column])
        keep &= np.array([regime_key(value) == wanted for value in table.columns[column]])
    return ResultsTable({name: values[keep] for name, values in table.columns.items()}, table.path)


def leave_one_out_errors(params: np.ndarray, accuracy: np.ndarray) -> np.ndarray:
    """Predicted minus published accuracy of each network, fitted on all the others (NaN where
    that fit fails)."""
    params = np.asarray(params, dtype=float)
    accuracy = np.asarray(accuracy, dtype=float)
    errors = np.full(len(params), math.nan)
    for held_out in range(len(params)):
        keep = np.arange(len(params)) != held_out
        fit = fit_curve(CURVE_MODEL, params[keep], accuracy[keep], exact=True)
        if fit.ok:
            errors[held_out] = float(fit.predict(params[held_out])) - accuracy[held_out]
    return errors


def fit_literature_curves(
    table: ResultsTable, floor_rmse: float, cited: str
) -> tuple[dict[int, dict], list[str]]:
    """Per N of `table` (one regime): the curve as a prior file's "curves" entry, and why each
    N without a curve has none. `cited` names the rows' source in each curve's text."""
    curves, skipped = {}, []
    for n, (params, accuracy) in table.by_n().items():
        if len(params) < MIN_POINTS:
            skipped.append(f"N={n}: {len(params)} published network(s), a curve needs {MIN_POINTS}")
            continue
        fit = fit_curve(CURVE_MODEL, params, accuracy)
        errors = leave_one_out_errors(params, accuracy)
        if not fit.ok or not np.isfinite(errors).all():
            skipped.append(f"N={n}: the fit or a leave-one-out fit failed ({fit.reason})")
            continue
        loo_rmse = float(np.sqrt(np.mean(errors**2)))
        curves[n] = {
            "model": CURVE_MODEL,
            "a": fit.coefficients["a"],
            "phi": fit.coefficients["phi"],
            "c": fit.coefficients["c"],
            "std": max(loo_rmse, floor_rmse),
            "params_low": float(params.min()),
            "params_high": float(params.max()),
            "n_points": len(params),
            "fit_rmse": fit.rmse,
            "loo_rmse": loo_rmse,
            "source": (
                f"generalized hyperbolic fitted to {len(params)} published networks "
                f"({cited}); +/- = leave-one-out RMSE {loo_rmse:.2f} % "
                f"(floor: the study's CV RMSE {floor_rmse} %)"
            ),
        }
    return curves, skipped
