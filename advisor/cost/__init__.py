"""Exact cost model of a PhiNet: parameters, MACs, int8 peak RAM, tensor arena,
flash (pure numpy, no torch).

``estimate(config)`` gives one configuration with a per-layer breakdown;
``estimate_totals(alpha, beta, t0, ...)`` gives the totals of many at once (arrays).
The deployment assumptions (int8 graph, flash and arena constants) live in ``advisor.cost.deployment``.
"""

from advisor.cost.model import (
    ARENA_SOURCE,
    TOTALS,
    WORK_TOTALS,
    CostReport,
    LayerCost,
    estimate,
    estimate_totals,
)

__all__ = [
    "ARENA_SOURCE",
    "TOTALS",
    "WORK_TOTALS",
    "CostReport",
    "LayerCost",
    "estimate",
    "estimate_totals",
]
