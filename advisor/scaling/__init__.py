"""The study's scaling laws: results tables, the five regressions, cross-validation,
N-segmentation, and priors (which N for a parameter budget; accuracy when measured).
Pure numpy/scipy; matplotlib only inside advisor.scaling.plots."""

from advisor.scaling.cv import CVResult, cross_validate
from advisor.scaling.models import MODELS, Fit, fit_curve
from advisor.scaling.prior import Curve, Prediction, Prior, available_priors, fit_prior, load_prior
from advisor.scaling.results import ResultsTable, from_rows, load_results
from advisor.scaling.segmentation import Interval

__all__ = [
    "MODELS",
    "CVResult",
    "Curve",
    "Fit",
    "Interval",
    "Prediction",
    "Prior",
    "ResultsTable",
    "available_priors",
    "cross_validate",
    "fit_curve",
    "fit_prior",
    "from_rows",
    "load_prior",
    "load_results",
]
