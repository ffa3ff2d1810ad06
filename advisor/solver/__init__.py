"""The solver: the PhiNet (alpha, beta, t0, N) to build for a board's int8 flash, arena RAM
and latency budgets, from the exact cost model, the latency model and a scaling prior.
Pure Python + numpy; never imports torch."""

from advisor.solver.budgets import Budgets, budgets_for
from advisor.solver.diagnose import Infeasible
from advisor.solver.recommendation import (
    Recommendation,
    recommend,
    solve,
    solve_resolutions,
)
from advisor.solver.space import SearchSpace

__all__ = [
    "Budgets",
    "Infeasible",
    "Recommendation",
    "SearchSpace",
    "budgets_for",
    "recommend",
    "solve",
    "solve_resolutions",
]
