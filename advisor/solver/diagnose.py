"""When no PhiNet fits: the smallest needs against each budget and what would make one fit.

Every cost grows with alpha, beta and t0 (checked over the whole search grid at 24-160 px
for the arena estimate too), so the grid's smallest corner (least alpha, beta and t0) is the
least any PhiNet of a depth needs, for each budget at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from advisor import provenance
from advisor.boards import list_boards
from advisor.cost.model import ARENA_SOURCE
from advisor.solver.budgets import COMMAND_LINE, KINDS, Budgets, budgets_for
from advisor.solver.search import evaluate
from advisor.solver.space import SearchSpace

if TYPE_CHECKING:
    from advisor.boards import Board


@dataclass
class Infeasible:
    """No PhiNet of the search space fits: the smallest needs and what would make one fit."""

    board: Board
    budgets: Budgets
    space: SearchSpace
    smallest: dict  # per budget: the least any PhiNet of the space needs
    over: list[str]  # budgets the smallest PhiNet exceeds
    largest_resolution: int | None
    boards_that_fit: list[str]
    latency_ms_needed: float | None
    warnings: list[str]
    resolutions: list[dict] = field(default_factory=list)

    fits = False

    def message(self) -> str:
        unit = {"latency": " ms"}
        needs = "; ".join(
            f"{KINDS[name].label} needs {self.smallest[KINDS[name].cost]:,}{unit.get(name, '')} "
            f"of {self.budgets.limit(KINDS[name]):,}{unit.get(name, '')}"
            for name in self.over
        )
        return (
            f"no PhiNet fits {self.board.id} at {self.space.resolution}x"
            f"{self.space.resolution}: even the smallest one ({needs}). Try "
            + ", or ".join(self.fixes())
        )

    def fixes(self) -> list[str]:
        """What would make a PhiNet fit, most specific first."""
        fixes = []
        if self.largest_resolution:
            fixes.append(
                f"a lower resolution (--resolution {self.largest_resolution} is the "
                f"largest that fits)"
            )
        for name in self.over:
            kind = KINDS[name]
            if name == "latency" and self.latency_ms_needed is not None:
                fixes.append(
                    f"a longer latency target (--latency-ms {self.latency_ms_needed:g} or more)"
                    " or a faster engine (--engine)"
                )
            elif self.budgets.sources.get(kind.budget) == COMMAND_LINE:
                fixes.append(f"a larger {kind.option} (at least {self.smallest[kind.cost]:,})")
        if self.boards_that_fit:
            fixes.append(f"another board ({', '.join(self.boards_that_fit[:6])})")
        if not fixes:
            fixes.append("a board with more " + " and ".join(KINDS[n].label for n in self.over))
        return fixes

    def to_dict(self) -> dict:
        return {
            "fits": False,
            "board": {
                "id": self.board.id,
                "name": self.board.name,
                "path": self.board.path,
                "source": provenance.BOARD_PROFILE,
            },
            "resolution": self.space.resolution,
            "budgets": self.budgets.to_dict(),
            # NaN (no latency model) is not JSON: null
            "smallest_need": {
                name: None if isinstance(value, float) and np.isnan(value) else value
                for name, value in self.smallest.items()
            },
            "over_budget": self.over,
            "largest_fitting_resolution": self.largest_resolution,
            "latency_ms_needed": self.latency_ms_needed,
            "boards_that_fit": self.boards_that_fit,
            "fixes": self.fixes(),
            "message": self.message(),
            "resolutions": self.resolutions,
            "warnings": self.warnings,
            "sources": {
                "smallest_need": provenance.COST_MODEL,
                "latency_ms": None if self.budgets.latency is None else self.budgets.latency.source,
                "arena_bytes": ARENA_SOURCE,
                "budgets": dict(self.budgets.sources),
            },
        }


def _corner(space: SearchSpace, n: int, budgets: Budgets) -> dict:
    return evaluate(space, n, space.alphas[0], space.betas[0], space.t0s[0], budgets)


def smallest_needs(space: SearchSpace, budgets: Budgets) -> dict[str, float]:
    """The least flash, arena RAM, latency and MACs any PhiNet of `space` needs (each on
    its own); latency is NaN without a latency model."""
    corners = [_corner(space, n, budgets) for n in space.num_layers]
    needs: dict[str, float] = {
        name: int(min(np.min(corner[name]) for corner in corners))
        for name in ("params", "flash_bytes", "arena_bytes", "macs")
    }
    needs["latency_ms"] = round(float(min(np.min(c["latency_ms"]) for c in corners)), 3)
    return needs


def smallest_fits(space: SearchSpace, budgets: Budgets) -> bool:
    """Does the smallest PhiNet of some depth fit every budget?"""
    return any(bool(np.all(budgets.fits(_corner(space, n, budgets)))) for n in space.num_layers)


# Sides R and R + 32 (R > 32) build the same graph, every feature map of the second larger:
# the stem and the four stride-2 blocks (1, 3, 5, 7) each halve the side, rounding up, and
# whether the converter adds a PAD op depends only on the parity of a side, so on the
# bits 0-4 of R - 1; from R = 33 on, the last feature map is at least 2x2, so no
# squeeze-excite MEAN is dropped either. Within such a class the costs never fall as R grows.
_PERIOD = 32


def largest_fitting_resolution(space: SearchSpace, budgets: Budgets) -> int | None:
    """The largest resolution below `space.resolution` at which some PhiNet fits, or None.

    Costs do not grow monotonically with the resolution: where a feature-map side turns odd
    the converter folds a PAD op into the next stride-2 conv, one op and one tensor fewer,
    and where the arena's fixed part dominates (budgets under ~25 KB) such a dip can fit
    far above a side that does not. They do grow within each class of sides equal modulo
    32 (see `_PERIOD`), so the search bisects each class above 2 x 32 (about 32 x log2(R)
    checks at most, not R), and scans the sides up to 2 x 32 one by one."""
    top = space.resolution - 1

    def fits(side: int) -> bool:
        return smallest_fits(space.with_resolution(side), budgets)

    if top < 1 or not fits(1):  # 1x1 needs least of all: no PAD, no MEAN, least memory
        return None

    floor = 2 * _PERIOD  # sides above it are bisected per class
    best = 0
    # the largest side of each class, from the highest class down
    for class_top in range(top, max(floor, top - _PERIOD), -1):
        if class_top <= best:
            break
        low_side = class_top - (class_top - best - 1) // _PERIOD * _PERIOD  # least side > best
        low_side = max(low_side, class_top - (class_top - floor - 1) // _PERIOD * _PERIOD)
        if not fits(low_side):
            continue  # nothing of this class above `best` fits
        low, high = low_side, class_top + _PERIOD  # low fits; high (beyond the class top) not
        while high - low > _PERIOD:
            middle = low + (high - low) // (2 * _PERIOD) * _PERIOD
            if fits(middle):
                low = middle
            else:
                high = middle
        best = low
    if best:
        return best
    for side in range(min(top, floor), 0, -1):
        if fits(side):
            return side
    return None


def diagnose(board: Board, budgets: Budgets, space: SearchSpace, warnings: list[str]) -> Infeasible:
    """Why no PhiNet of ``space`` fits ``board``'s budgets, and what would make one fit."""

    smallest = smallest_needs(space, budgets)
    over = budgets.over(smallest)
    # Flash does not depend on the resolution: no resolution helps a flash shortfall.
    largest = None if "flash" in over else largest_fitting_resolution(space, budgets)
    latency_needed = None
    if "latency" in over:
        latency_needed = float(np.ceil(smallest["latency_ms"] * 10) / 10)
    others = []
    for other in list_boards():
        if other.id == board.id:
            continue
        user_latency = budgets.sources["latency_ms"] == COMMAND_LINE
        other_budgets = budgets_for(other, latency_ms=budgets.latency_ms if user_latency else None)
        if smallest_fits(space, other_budgets):
            others.append(other.id)
    return Infeasible(
        board=board,
        budgets=budgets,
        space=space,
        smallest=smallest,
        over=over,
        largest_resolution=largest,
        boards_that_fit=others,
        latency_ms_needed=latency_needed,
        warnings=warnings,
    )
