"""Exact-cost search of alpha, beta and t0 at one depth, against the three budgets.

Costs come from `advisor.cost.estimate_totals` (the cost model, vectorized). A candidate
table is a dict of equal-length numpy arrays: num_layers, alpha, beta, t0 and the cost
model's params, params_folded, macs, peak_ram_bytes, flash_bytes.
"""

from __future__ import annotations

import numpy as np

from advisor.solver.budgets import Budgets
from advisor.solver.space import SearchSpace

CONFIG_COLUMNS = ("num_layers", "alpha", "beta", "t0")
COST_COLUMNS = ("params", "params_folded", "macs", "peak_ram_bytes", "flash_bytes")


def evaluate(space: SearchSpace, num_layers: int, alpha, beta, t0) -> dict[str, np.ndarray]:
    """Candidate table of the PhiNets (alpha[i], beta[i], t0[i]) of depth `num_layers`."""
    from advisor.cost import estimate_totals

    alpha, beta, t0 = np.broadcast_arrays(np.asarray(alpha, float), np.asarray(beta, float),
                                          np.asarray(t0, float))
    totals = estimate_totals(alpha, beta, t0, num_layers, space.resolution,
                             in_channels=space.in_channels, num_classes=space.num_classes)
    table = {"num_layers": np.full(alpha.shape, num_layers), "alpha": alpha, "beta": beta,
             "t0": t0}
    table.update({name: np.asarray(totals[name]).astype(np.int64) for name in COST_COLUMNS})
    return table


def widest_fitting(space: SearchSpace, budgets: Budgets, num_layers: int) -> dict[str, np.ndarray]:
    """For every (beta, t0) of the grid, the largest alpha of the grid that fits all three
    budgets at depth `num_layers`. Lines where even the smallest alpha does not fit are left
    out.

    Costs never fall as alpha, beta or t0 grow, so the lines of least and most (beta, t0)
    bracket every other line's answer; each line's bracket then shrinks by a k-ary search
    (k probes per line and call, k chosen to keep a call near `_POINTS_PER_CALL`: a call of
    the cost model costs about as much as a thousand extra configurations)."""
    alphas = np.asarray(space.alphas)
    betas, t0s = (grid.ravel() for grid in np.meshgrid(space.betas, space.t0s, indexing="ij"))
    count = len(alphas)
    extremes = evaluate(space, num_layers, np.concatenate([alphas, alphas]),
                        np.repeat([space.betas[0], space.betas[-1]], count),
                        np.repeat([space.t0s[0], space.t0s[-1]], count))
    fits = budgets.fits(extremes["flash_bytes"], extremes["peak_ram_bytes"], extremes["macs"])
    upper, lower = _fitting_prefix(fits[:count]), _fitting_prefix(fits[count:])
    if upper < 0:
        return {name: column[:0] for name, column in extremes.items()}
    fitting = np.full(betas.shape, lower)  # largest alpha index known to fit (-1: none)
    failing = np.full(betas.shape, upper + 1)  # smallest alpha index known not to fit
    while True:
        open_lines = np.flatnonzero(failing - fitting > 1)
        if open_lines.size == 0:
            break
        probes_per_line = int(np.clip(_POINTS_PER_CALL // open_lines.size, 1, 63))
        low, high = fitting[open_lines, None], failing[open_lines, None]
        steps = np.arange(1, probes_per_line + 1)[None, :]
        probes = np.clip(low + (high - low) * steps // (probes_per_line + 1), low + 1, high - 1)
        table = evaluate(space, num_layers, alphas[probes].ravel(),
                         np.repeat(betas[open_lines], probes_per_line),
                         np.repeat(t0s[open_lines], probes_per_line))
        fits = budgets.fits(table["flash_bytes"], table["peak_ram_bytes"],
                            table["macs"]).reshape(probes.shape)
        fitting[open_lines] = np.max(np.where(fits, probes, low), axis=1)
        failing[open_lines] = np.maximum(np.min(np.where(fits, high, probes), axis=1),
                                         fitting[open_lines] + 1)
    found = np.flatnonzero(fitting >= 0)
    return evaluate(space, num_layers, alphas[fitting[found]], betas[found], t0s[found])


def _fitting_prefix(fits: np.ndarray) -> int:
    """Index of the last True of the leading run of True (-1 when the first is False)."""
    return int(np.argmin(fits)) - 1 if not fits.all() else len(fits) - 1


_POINTS_PER_CALL = 1200


def concat(tables: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    names = CONFIG_COLUMNS + COST_COLUMNS
    return {name: np.concatenate([table[name] for table in tables]) if tables else np.zeros(0)
            for name in names}


def rank_by_params(table: dict[str, np.ndarray]) -> np.ndarray:
    """Row indices from most parameters to fewest; ties go to fewer MACs, then less RAM,
    then less flash (cheaper to run for the same capacity)."""
    return np.lexsort((table["flash_bytes"], table["peak_ram_bytes"], table["macs"],
                       -table["params"]))


def row(table: dict[str, np.ndarray], index: int) -> dict[str, float | int]:
    """One candidate as plain Python numbers."""
    out: dict[str, float | int] = {}
    for name in CONFIG_COLUMNS + COST_COLUMNS:
        value = table[name][index]
        out[name] = float(value) if name in ("alpha", "beta", "t0") else int(value)
    return out
