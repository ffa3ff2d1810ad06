"""The study's five regressions of accuracy (%) on parameters P, one curve per N.

Every model is fitted in the scaled variable x = P / p_ref (p_ref: the geometric mean of the
fitted P unless given) and reported in the study's terms:

1. exponential             acc = -a^(P - b) + c
   As printed, a^(P - b) over/underflows for P in 10^3..10^7 (a is within 1e-5 of 1).
   Fitted as  acc = c - exp(u - r x)  with r > 0, so a = exp(-r / p_ref) (reported also as
   ln_a = -r / p_ref, which keeps full precision), b = u p_ref / r. exp(u - r x) <= exp(u) for
   x >= 0, so nothing overflows.
2. logarithmic             acc = a log(P - b) + c
   Fitted as  acc = a log(x - eps) + c'  with eps < min x;  b = eps p_ref, c = c' - a log p_ref.
3. convex combination      acc = -k a^(P - b) + (1 - k) d log(P - e) + c,  k in [0, 1]
   Only -A exp(-r x) and D log(x - eps) are identifiable (k trades off against b and d), so it
   is fitted as  acc = c' - exp(u - r x) + D log(x - eps)  and reported with the canonical
   k = A / (A + |D|), |d| = a^-b = A + |D| (A = e^u), sign(d) = sign(D), e = eps p_ref,
   c = c' - D log p_ref. u at its lower bound means k -> 0 (the log model), which is allowed.
4. hyperbolic              acc = -a / (P - b) + c,  a, b, c > 0
   Fitted as  acc = c - alpha / (x - beta); a = alpha p_ref, b = beta p_ref.
5. generalized hyperbolic  acc = -a / P^phi + c,  a, c, phi > 0
   Fitted as  acc = c - alpha x^-phi;  a = alpha p_ref^phi.

Fits are bounded least squares (scipy.optimize.least_squares, trf, analytic Jacobian) inside
bounds: the study's constraints, the fitted data's domain (P > b) and a numerical box
(|u| <= 30, r <= 60 / min x, phi <= 5, 0 < c <= 100 where c is an asymptote). Starting
points come from a grid over the one nonlinear parameter with the linear ones solved by
least squares; the best few are tried. From each start, MINPACK's unbounded
Levenberg-Marquardt runs first (several times faster); its answer is kept only when it lies
strictly inside the bounds, where it is a local minimum of the bounded problem as well;
otherwise trf solves the bounded problem.
A fit is `ok` only when the optimizer converged and no parameter sits on a bound, except two
limits of the study's own constraints: the convex combination's k -> 0, and the hyperbolic's
b -> 0 (b > 0 met as a limit: acc = c - a / P; on data curved more gently than 1/P, the best
hyperbolic always sits there, and the study reports an RMSE for it). Otherwise it is returned
with ok=False and the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

U_MAX = 30.0  # |u|: exp(30) ~ 1e13 percentage points, far beyond any meaningful amplitude
R_SPAN = 60.0  # r <= R_SPAN / min x: a steeper exponential is flat at every data point
PHI_MAX = 5.0
EPS_SPAN = 1e3  # eps >= -EPS_SPAN * max x: a log shifted further is a straight line
ACC_MAX = 100.0
DOMAIN_MARGIN = 1e-9  # b, eps < (1 - margin) min x keeps log and 1/(x - b) finite
BOUND_RTOL = 1e-7
RESTARTS = 3
# Stop when the cost changes by < 1e-7 relative: at ~1 % RMSE that is far below a 0.001 % change
FTOL = XTOL = GTOL = 1e-7


@dataclass(frozen=True)
class Model:
    name: str
    formula: str  # the study's form
    theta_names: tuple[str, ...]  # fitted (scaled) parameters
    closed_lower: tuple[bool, ...] = ()  # bounds a fit may legitimately sit on

    def value(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def jacobian(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def bounds(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def starts(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        raise NotImplementedError

    def study_coefficients(self, theta: np.ndarray, p_ref: float) -> dict[str, float]:
        raise NotImplementedError


def _linear_starts(x, y, nonlinear_grid, columns, assemble, lo, hi) -> list[np.ndarray]:
    """For each value of the nonlinear parameter solve the linear ones by least squares;
    return the candidate thetas (clipped into bounds), best residual first."""
    scored = []
    for value in nonlinear_grid:
        design = columns(value, x)
        if not np.all(np.isfinite(design)):
            continue
        coef, *_ = np.linalg.lstsq(design, y, rcond=None)
        theta = assemble(value, coef)
        if theta is None:
            continue
        theta = _clip_inside(np.asarray(theta, float), lo, hi)
        scored.append((float(np.sum((design @ coef - y) ** 2)), theta))
    scored.sort(key=lambda item: item[0])
    return [theta for _, theta in scored]


def _clip_inside(theta, lo, hi):
    """Clip into the box, a little inside finite bounds (trf needs strictly feasible starts)."""
    span = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(1.0, np.abs(theta)))
    inner_lo = np.where(np.isfinite(lo), lo + 1e-6 * span, -np.inf)
    inner_hi = np.where(np.isfinite(hi), hi - 1e-6 * span, np.inf)
    return np.minimum(np.maximum(theta, inner_lo), inner_hi)


class Exponential(Model):
    def value(self, theta, x):
        u, r, c = theta
        return c - np.exp(u - r * x)

    def jacobian(self, theta, x):
        u, r, _c = theta
        e = np.exp(u - r * x)
        return np.column_stack([-e, x * e, np.ones_like(x)])

    def bounds(self, x):
        return (np.array([-U_MAX, 0.0, 0.0]), np.array([U_MAX, R_SPAN / x.min(), ACC_MAX]))

    def starts(self, x, y):
        lo, hi = self.bounds(x)
        grid = np.concatenate([[0.3, 1, 3, 10] / np.median(x), [1, 3, 10] / x.min()])

        def assemble(r, coef):
            c, amplitude = coef
            return None if amplitude <= 0 else (math.log(amplitude), r, c)

        cols = lambda r, x: np.column_stack([np.ones_like(x), -np.exp(-r * x)])  # noqa: E731
        return _linear_starts(x, y, grid, cols, assemble, lo, hi)

    def study_coefficients(self, theta, p_ref):
        u, r, c = theta
        ln_a = -r / p_ref
        return {"a": math.exp(ln_a), "ln_a": ln_a, "b": u * p_ref / r, "c": c}


class Logarithmic(Model):
    def value(self, theta, x):
        a, eps, c = theta
        with np.errstate(invalid="ignore", divide="ignore"):
            return a * np.log(x - eps) + c

    def jacobian(self, theta, x):
        a, eps, _c = theta
        return np.column_stack([np.log(x - eps), -a / (x - eps), np.ones_like(x)])

    def bounds(self, x):
        return (
            np.array([-np.inf, -EPS_SPAN * x.max(), -np.inf]),
            np.array([np.inf, (1 - DOMAIN_MARGIN) * x.min(), np.inf]),
        )

    def starts(self, x, y):
        lo, hi = self.bounds(x)
        grid = [0.0, 0.5 * x.min(), 0.9 * x.min(), -x.min(), -np.median(x), -x.max(), -10 * x.max()]
        cols = lambda e, x: np.column_stack([np.log(x - e), np.ones_like(x)])  # noqa: E731
        return _linear_starts(x, y, grid, cols, lambda e, coef: (coef[0], e, coef[1]), lo, hi)

    def study_coefficients(self, theta, p_ref):
        a, eps, c = theta
        return {"a": a, "b": eps * p_ref, "c": c - a * math.log(p_ref)}


class Convex(Model):
    def value(self, theta, x):
        u, r, d, eps, c = theta
        with np.errstate(invalid="ignore", divide="ignore"):
            return c - np.exp(u - r * x) + d * np.log(x - eps)

    def jacobian(self, theta, x):
        u, r, d, eps, _c = theta
        e = np.exp(u - r * x)
        return np.column_stack([-e, x * e, np.log(x - eps), -d / (x - eps), np.ones_like(x)])

    def bounds(self, x):
        return (
            np.array([-U_MAX, 0.0, -np.inf, -EPS_SPAN * x.max(), -np.inf]),
            np.array([U_MAX, R_SPAN / x.min(), np.inf, (1 - DOMAIN_MARGIN) * x.min(), np.inf]),
        )

    def starts(self, x, y):
        lo, hi = self.bounds(x)
        rates = np.concatenate([[0.3, 1, 3, 10] / np.median(x), [1, 3, 10] / x.min()])
        shifts = [0.0, -np.median(x), -x.max()]
        grid = [(r, e) for r in rates for e in shifts]

        def cols(pair, x):
            r, e = pair
            return np.column_stack([np.ones_like(x), -np.exp(-r * x), np.log(x - e)])

        def assemble(pair, coef):
            c, amplitude, d = coef
            u = math.log(amplitude) if amplitude > 0 else -U_MAX
            return (u, pair[0], d, pair[1], c)

        return _linear_starts(x, y, grid, cols, assemble, lo, hi)

    def study_coefficients(self, theta, p_ref):
        u, r, d, eps, c = theta
        amplitude = math.exp(u)
        total = amplitude + abs(d)
        ln_a = -r / p_ref
        return {
            "k": amplitude / total,
            "a": math.exp(ln_a),
            "ln_a": ln_a,
            "b": math.log(total) * p_ref / r,
            "d": math.copysign(total, d),
            "e": eps * p_ref,
            "c": c - d * math.log(p_ref),
        }


class Hyperbolic(Model):
    def value(self, theta, x):
        alpha, beta, c = theta
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(x > beta, c - alpha / (x - beta), np.nan)

    def jacobian(self, theta, x):
        alpha, beta, _c = theta
        s = x - beta
        return np.column_stack([-1 / s, -alpha / s**2, np.ones_like(x)])

    def bounds(self, x):
        return (
            np.array([0.0, 0.0, 0.0]),
            np.array([np.inf, (1 - DOMAIN_MARGIN) * x.min(), ACC_MAX]),
        )

    def starts(self, x, y):
        lo, hi = self.bounds(x)
        grid = x.min() * np.array([1e-3, 0.3, 0.7, 0.9, 0.99])
        cols = lambda b, x: np.column_stack([-1 / (x - b), np.ones_like(x)])  # noqa: E731
        return _linear_starts(x, y, grid, cols, lambda b, coef: (coef[0], b, coef[1]), lo, hi)

    def study_coefficients(self, theta, p_ref):
        alpha, beta, c = theta
        return {"a": alpha * p_ref, "b": beta * p_ref, "c": c}


class GeneralizedHyperbolic(Model):
    def value(self, theta, x):
        alpha, phi, c = theta
        return c - alpha * x ** (-phi)

    def jacobian(self, theta, x):
        alpha, phi, _c = theta
        power = x ** (-phi)
        return np.column_stack([-power, alpha * power * np.log(x), np.ones_like(x)])

    def bounds(self, x):
        return (np.array([0.0, 0.0, 0.0]), np.array([np.inf, PHI_MAX, ACC_MAX]))

    def starts(self, x, y):
        lo, hi = self.bounds(x)
        grid = [0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.5]
        cols = lambda p, x: np.column_stack([-(x ** (-p)), np.ones_like(x)])  # noqa: E731
        return _linear_starts(x, y, grid, cols, lambda p, coef: (coef[0], p, coef[1]), lo, hi)

    def study_coefficients(self, theta, p_ref):
        alpha, phi, c = theta
        return {"a": alpha * p_ref**phi, "phi": phi, "c": c}


MODELS: dict[str, Model] = {
    model.name: model
    for model in (
        Exponential("exponential", "acc = -a^(P - b) + c", ("u", "r", "c")),
        Logarithmic("logarithmic", "acc = a log(P - b) + c", ("a", "eps", "c'")),
        Convex(
            "convex",
            "acc = -k a^(P - b) + (1 - k) d log(P - e) + c",
            ("u", "r", "D", "eps", "c'"),
            closed_lower=(True, False, False, False, False),
        ),
        Hyperbolic(
            "hyperbolic",
            "acc = -a / (P - b) + c",
            ("alpha", "beta", "c"),
            closed_lower=(False, True, False),
        ),
        GeneralizedHyperbolic(
            "generalized_hyperbolic", "acc = -a / P^phi + c", ("alpha", "phi", "c")
        ),
    )
}


@dataclass(frozen=True)
class Fit:
    """One fitted curve. `theta` is in the scaled variable x = P / p_ref; `coefficients` are the
    regression coefficients in the study's terms (a, b, c, ...). ok=False fits carry the reason
    and must not be used for prediction."""

    model: str
    theta: np.ndarray
    p_ref: float
    ok: bool
    reason: str = ""
    rmse: float = math.nan  # on the fitted points
    n_points: int = 0
    coefficients: dict[str, float] = field(default_factory=dict)

    def predict(self, params) -> np.ndarray:
        x = np.asarray(params, dtype=float) / self.p_ref
        return MODELS[self.model].value(self.theta, x)


def fit_curve(
    model_name: str,
    params: np.ndarray,
    accuracy: np.ndarray,
    p_ref: float | None = None,
    start: np.ndarray | None = None,
    restarts: int = RESTARTS,
    exact: bool = False,
) -> Fit:
    """Fit one model to (params, accuracy). With `start` (a theta for the same p_ref, e.g. the
    full-data fit) that start is tried first and the data-driven restarts only if it fails.
    A fit needs more points than coefficients; `exact=True` also takes as many (an exact
    interpolation: leave-one-out over a handful of published points needs it)."""
    model = _model(model_name)
    params = np.asarray(params, dtype=float)
    y = np.asarray(accuracy, dtype=float)
    if len(params) < len(model.theta_names) + (0 if exact else 1):
        return Fit(
            model.name,
            np.full(len(model.theta_names), np.nan),
            math.nan,
            False,
            f"{len(params)} points for {len(model.theta_names)} parameters",
        )
    p_ref = float(np.exp(np.mean(np.log(params)))) if p_ref is None else float(p_ref)
    x = params / p_ref
    lo, hi = model.bounds(x)
    best = None
    if start is not None:
        best = _solve(model, x, y, _clip_inside(np.asarray(start, float), lo, hi), lo, hi)
        if best.ok:
            return _result(model, best, p_ref, len(x))
    for theta0 in model.starts(x, y)[:restarts]:
        attempt = _solve(model, x, y, theta0, lo, hi)
        if best is None or (attempt.ok, -attempt.cost) > (best.ok, -best.cost):
            best = attempt
    if best is None:
        return Fit(
            model.name,
            np.full(len(model.theta_names), np.nan),
            p_ref,
            False,
            "no finite starting point",
            n_points=len(x),
        )
    return _result(model, best, p_ref, len(x))


class _Solution(NamedTuple):
    """One least-squares run: converged strictly inside the bounds (``ok``), its parameters,
    its cost (sum of squared residuals) and, when not ok, why."""

    ok: bool
    theta: np.ndarray
    cost: float
    reason: str


def _solve(model, x, y, theta0, lo, hi) -> _Solution:

    def residuals(theta):
        return model.value(theta, x) - y

    def jacobian(theta):
        return model.jacobian(theta, x)

    from scipy.optimize import least_squares  # lazily: `advisor recommend` loads priors only

    fast = _solve_unbounded(model, residuals, jacobian, theta0, lo, hi)
    if fast is not None:
        return fast
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        try:
            solution = least_squares(
                residuals,
                theta0,
                jac=jacobian,
                bounds=(lo, hi),
                method="trf",
                x_scale="jac",
                max_nfev=200,
                ftol=FTOL,
                xtol=XTOL,
                gtol=GTOL,
            )
        except ValueError as err:  # non-finite residuals at the start
            return _Solution(False, theta0, math.inf, f"optimizer refused the start: {err}")
    theta, cost = solution.x, float(2 * solution.cost)
    if solution.status <= 0 or not (np.isfinite(cost) and np.all(np.isfinite(theta))):
        return _Solution(
            False,
            theta,
            cost if np.isfinite(cost) else math.inf,
            f"did not converge: {solution.message}",
        )
    pinned = _at_bounds(model, theta, lo, hi)
    if pinned:
        return _Solution(False, theta, cost, f"parameter(s) at their bounds: {', '.join(pinned)}")
    return _Solution(True, theta, cost, "")


def _solve_unbounded(model, residuals, jacobian, theta0, lo, hi) -> _Solution | None:
    """Fast path: MINPACK Levenberg-Marquardt without bounds (leastsq, C loop). A converged
    answer strictly inside the bounds is a local minimum of the bounded problem too, so it is
    accepted; anything else (outside, on a bound, not converged) returns None and the bounded
    trf solver runs from the same start."""
    from scipy.optimize import leastsq

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        theta, _, info, _, status = leastsq(
            residuals,
            theta0,
            Dfun=jacobian,
            full_output=True,
            ftol=FTOL,
            xtol=XTOL,
            gtol=GTOL,
            maxfev=200,
        )
    if status not in (1, 2, 3, 4) or not np.all(np.isfinite(info["fvec"])):
        return None
    if not np.all((theta > lo) & (theta < hi)) or _at_bounds(model, theta, lo, hi):
        return None
    return _Solution(True, theta, float(np.sum(info["fvec"] ** 2)), "")


def _at_bounds(model, theta, lo, hi) -> list[str]:
    pinned = []
    closed = model.closed_lower or (False,) * len(theta)
    for name, value, low, high, allowed in zip(model.theta_names, theta, lo, hi, closed):
        if np.isfinite(low) and not allowed and value - low <= BOUND_RTOL * (1 + abs(low)):
            pinned.append(f"{name}={value:.6g} (lower bound {low:.6g})")
        if np.isfinite(high) and high - value <= BOUND_RTOL * (1 + abs(high)):
            pinned.append(f"{name}={value:.6g} (upper bound {high:.6g})")
    return pinned


def _result(model, solution: _Solution, p_ref, n_points) -> Fit:
    coefficients = {}
    if np.all(np.isfinite(solution.theta)):
        coefficients = {
            k: float(v) for k, v in model.study_coefficients(solution.theta, p_ref).items()
        }
    return Fit(
        model.name,
        solution.theta,
        p_ref,
        solution.ok,
        solution.reason,
        math.sqrt(solution.cost / n_points),
        n_points,
        coefficients,
    )


def _model(name: str) -> Model:
    if name not in MODELS:
        from advisor.errors import AdvisorError

        raise AdvisorError(f"unknown model {name!r}. Choose one of: {', '.join(MODELS)}.")
    return MODELS[name]
