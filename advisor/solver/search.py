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
    budgets at depth `num_layers`, found by bisection (costs never fall as alpha grows).
    Lines where even the smallest alpha does not fit are left out."""
    alphas = np.asarray(space.alphas)
    betas, t0s = (grid.ravel() for grid in np.meshgrid(space.betas, space.t0s, indexing="ij"))
    fitting = np.full(betas.shape, -1)  # largest alpha index known to fit, -1: none yet
    failing = np.full(betas.shape, len(alphas))  # smallest alpha index known not to fit
    best: dict[str, np.ndarray] | None = None
    while True:
        open_lines = np.flatnonzero(failing - fitting > 1)
        if open_lines.size == 0:
            break
        middle = (fitting[open_lines] + failing[open_lines]) // 2
        table = evaluate(space, num_layers, alphas[middle], betas[open_lines], t0s[open_lines])
        fits = budgets.fits(table["flash_bytes"], table["peak_ram_bytes"], table["macs"])
        fitting[open_lines[fits]] = middle[fits]
        failing[open_lines[~fits]] = middle[~fits]
        if best is None:
            best = {name: np.zeros(betas.shape, column.dtype) for name, column in table.items()}
        for name, column in table.items():
            best[name][open_lines[fits]] = column[fits]
    found = fitting >= 0
    return {name: column[found] for name, column in best.items()}


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
