"""Exact cost model of a PhiNet: parameters, MACs, int8 peak RAM, flash (pure numpy, no torch).

``estimate(config)`` gives one configuration with a per-layer breakdown;
``estimate_totals(alpha, beta, t0, ...)`` gives the totals of many at once (arrays).
The deployment assumptions (int8 graph, flash constants) live in ``advisor.cost.deployment``.
"""

from advisor.cost.model import TOTALS, CostReport, LayerCost, estimate, estimate_totals

__all__ = ["TOTALS", "CostReport", "LayerCost", "estimate", "estimate_totals"]
