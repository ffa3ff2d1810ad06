"""Cheaper alternatives to a recommendation: points of the Pareto set of the objective
(predicted accuracy, or parameters without fitted curves) against latency and RAM.

Each alternative is the best objective under a cap on latency or RAM set at a fraction of
the recommendation's (ties to less latency, then less RAM): such a point is never dominated
on (objective, latency, RAM), and the caps spread the five over the trade-off. Latency is
the latency model's estimate; on a board without one (no calibration), MACs stand in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from advisor.solver.search import Candidate, rank_by_params, row

# (cost column, fraction of the recommendation's value, label)
CAPS = (
    ("latency_ms", 0.75, "latency <= 75%"),
    ("arena_bytes", 0.75, "RAM <= 75%"),
    ("latency_ms", 0.5, "latency <= 50%"),
    ("arena_bytes", 0.5, "RAM <= 50%"),
    ("latency_ms", 0.25, "latency <= 25%"),
)


def pareto_alternatives(
    table: dict[str, np.ndarray],
    recommended: Candidate,
    objective: Callable[[int, int], float | None],
    limit: int = 5,
) -> list[tuple[str, Candidate, float | None]]:
    """Up to `limit` (label, candidate row, objective) alternatives from the fitting
    candidates in `table`. `objective(num_layers, params)` rises with params at fixed N."""
    chosen: list[tuple[str, Candidate, float | None]] = []
    seen = {_key(recommended)}
    latency = "macs" if np.isnan(recommended.latency_ms) else "latency_ms"
    for column, fraction, label in CAPS:
        column = latency if column == "latency_ms" else column
        under_cap = np.flatnonzero(table[column] <= fraction * getattr(recommended, column))
        if under_cap.size == 0:
            continue
        best: tuple | None = None
        for n in np.unique(table["num_layers"][under_cap]):
            rows = under_cap[table["num_layers"][under_cap] == n]
            subtable = {name: values[rows] for name, values in table.items()}
            candidate = row(subtable, int(rank_by_params(subtable)[0]))
            score = objective(int(n), candidate.params)
            rank = (
                -np.inf if score is None else score,
                -getattr(candidate, latency),
                -candidate.arena_bytes,
            )
            if best is None or rank > best[0]:
                best = (rank, candidate, score)
        if best is not None and _key(best[1]) not in seen:
            seen.add(_key(best[1]))
            chosen.append((label, best[1], best[2]))
        if len(chosen) == limit:
            break
    return chosen


def _key(candidate: Candidate) -> tuple:
    return (
        candidate.num_layers,
        round(candidate.alpha, 6),
        round(candidate.beta, 6),
        round(candidate.t0, 6),
    )
