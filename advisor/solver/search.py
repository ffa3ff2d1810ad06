"""Exact-cost search of alpha, beta and t0 at one depth, against the budgets.

Costs come from `advisor.cost.estimate_totals` (the cost model, vectorized). A candidate
table is a dict of equal-length numpy arrays: num_layers, alpha, beta, t0 and the cost
model's params, params_folded, macs, peak_ram_bytes (activation plan), arena_bytes (the
whole TFLite Micro tensor arena, compared with the RAM budget), flash_bytes, the op count
and work per op class, and latency_ms (the latency model on the board's core, engine and
clock; NaN when the board's core has no calibration).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from advisor.cost import TOTALS, WORK_TOTALS
from advisor.solver.budgets import Budgets
from advisor.solver.space import SearchSpace

CONFIG_COLUMNS = ("num_layers", "alpha", "beta", "t0")
COST_COLUMNS = (*TOTALS, *WORK_TOTALS)
FLOAT_COLUMNS = ("alpha", "beta", "t0", "latency_ms")


def evaluate(
    space: SearchSpace, num_layers: int, alpha, beta, t0, budgets: Budgets
) -> dict[str, np.ndarray]:
    """Candidate table of the PhiNets (alpha[i], beta[i], t0[i]) of depth `num_layers`, their
    latency estimated as `budgets` does."""
    from advisor.cost import estimate_totals

    alpha, beta, t0 = np.broadcast_arrays(
        np.asarray(alpha, float), np.asarray(beta, float), np.asarray(t0, float)
    )
    totals = estimate_totals(
        alpha,
        beta,
        t0,
        num_layers,
        space.resolution,
        in_channels=space.in_channels,
        num_classes=space.num_classes,
    )
    table = {"num_layers": np.full(alpha.shape, num_layers), "alpha": alpha, "beta": beta, "t0": t0}
    table.update({name: np.asarray(totals[name]).astype(np.int64) for name in COST_COLUMNS})
    table["latency_ms"] = budgets.latency_ms_of(table)
    return table


class DepthSearch(NamedTuple):
    """What the search found at one depth: `candidates`, a table whose row with the most
    parameters is the grid's optimum (every other line that might beat it was pruned), and
    `widest_alpha`, the largest alpha that fits on any line (0.0: none fits)."""

    candidates: dict[str, np.ndarray]
    widest_alpha: float


def search_depth(space: SearchSpace, budgets: Budgets, num_layers: int) -> DepthSearch:
    """The (alpha, beta, t0) of the grid with the most parameters that fits every budget
    at depth `num_layers`: per (beta, t0) line, the largest fitting alpha.

    Costs never fall as alpha, beta or t0 grow, so the lines of least and most (beta, t0)
    bracket every other line's answer. Each line's bracket then shrinks by a k-ary search
    (k probes per line and call, k chosen to keep a call near `_POINTS_PER_CALL`: a call of
    the cost model costs about as much as a thousand extra configurations). Parameters
    never fall with alpha either, so a line is dropped once the parameters at its smallest
    failing alpha are no more than the best any line already reached (branch and bound)."""
    alphas = np.asarray(space.alphas)
    betas, t0s = (grid.ravel() for grid in np.meshgrid(space.betas, space.t0s, indexing="ij"))
    count = len(alphas)
    extremes = evaluate(
        space,
        num_layers,
        np.concatenate([alphas, alphas]),
        np.repeat([space.betas[0], space.betas[-1]], count),
        np.repeat([space.t0s[0], space.t0s[-1]], count),
        budgets,
    )
    fits = budgets.fits(extremes)
    upper, lower = _fitting_prefix(fits[:count]), _fitting_prefix(fits[count:])
    if upper < 0:
        return DepthSearch({name: column[:0] for name, column in extremes.items()}, 0.0)
    fitting = np.full(betas.shape, lower)  # largest alpha index known to fit (-1: none)
    failing = np.full(betas.shape, upper + 1)  # smallest alpha index known not to fit
    fitting_params = np.full(betas.shape, -1)  # parameters at `fitting`, -1: not evaluated
    failing_params = np.full(betas.shape, np.iinfo(np.int64).max)  # at `failing`, max: unknown
    alive = np.ones(betas.shape, bool)
    while True:
        open_lines = np.flatnonzero(alive & (failing - fitting > 1))
        if open_lines.size == 0:
            break
        per_line = int(np.clip(_POINTS_PER_CALL // open_lines.size, 1, 63))
        low, high = fitting[open_lines, None], failing[open_lines, None]
        steps = np.arange(1, per_line + 1)[None, :]
        probes = np.clip(low + (high - low) * steps // (per_line + 1), low + 1, high - 1)
        table = evaluate(
            space,
            num_layers,
            alphas[probes].ravel(),
            np.repeat(betas[open_lines], per_line),
            np.repeat(t0s[open_lines], per_line),
            budgets,
        )
        fits = budgets.fits(table).reshape(probes.shape)
        params = table["params"].reshape(probes.shape)
        rows = np.arange(open_lines.size)
        last_fit = np.argmax(np.where(fits, probes, -1), axis=1)
        first_fail = np.argmin(np.where(fits, np.iinfo(np.int64).max, probes), axis=1)
        any_fit, any_fail = fits.any(axis=1), ~fits.all(axis=1)
        fitting[open_lines] = np.where(any_fit, probes[rows, last_fit], fitting[open_lines])
        fitting_params[open_lines] = np.where(
            any_fit, params[rows, last_fit], fitting_params[open_lines]
        )
        failing[open_lines] = np.where(any_fail, probes[rows, first_fail], failing[open_lines])
        failing_params[open_lines] = np.where(
            any_fail, params[rows, first_fail], failing_params[open_lines]
        )
        failing[open_lines] = np.maximum(failing[open_lines], fitting[open_lines] + 1)
        best = fitting_params.max()
        alive &= ~((failing_params <= best) & (fitting_params < best))
    found = np.flatnonzero(alive & (fitting >= 0))
    candidates = evaluate(
        space, num_layers, alphas[fitting[found]], betas[found], t0s[found], budgets
    )
    return DepthSearch(candidates, float(alphas[upper]))


def _fitting_prefix(fits: np.ndarray) -> int:
    """Index of the last True of the leading run of True (-1 when the first is False)."""
    return int(np.argmin(fits)) - 1 if not fits.all() else len(fits) - 1


_POINTS_PER_CALL = 1200


def concat(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    names = (*CONFIG_COLUMNS, *COST_COLUMNS, "latency_ms")
    return {
        name: np.concatenate([table[name] for table in tables]) if tables else np.zeros(0)
        for name in names
    }


def rank_by_params(table: dict[str, np.ndarray]) -> np.ndarray:
    """Row indices from most parameters to fewest; ties go to less latency, then fewer MACs,
    then less RAM, then less flash (cheaper to run for the same capacity)."""
    latency = np.nan_to_num(table["latency_ms"], nan=0.0)
    return np.lexsort(
        (table["flash_bytes"], table["arena_bytes"], table["macs"], latency, -table["params"])
    )


class Candidate(NamedTuple):
    """One row of a candidate table as plain Python numbers: the configuration, the cost
    model's figures, the op count and work per op class, and the estimated latency (NaN
    without a latency model)."""

    num_layers: int
    alpha: float
    beta: float
    t0: float
    params: int
    params_folded: int
    macs: int
    peak_ram_bytes: int
    arena_bytes: int
    flash_bytes: int
    ops: int
    work_conv_kxk: int
    work_conv_1x1: int
    work_depthwise: int
    work_fully_connected: int
    work_elementwise: int
    work_pooling: int
    latency_ms: float


def row(table: dict[str, np.ndarray], index: int) -> Candidate:
    """Row ``index`` of a candidate table."""
    return Candidate._make(
        float(table[name][index]) if name in FLOAT_COLUMNS else int(table[name][index])
        for name in Candidate._fields
    )


assert Candidate._fields == (*CONFIG_COLUMNS, *COST_COLUMNS, "latency_ms")
