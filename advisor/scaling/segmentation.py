"""The study's segmentation: which N reaches the best accuracy at each parameter budget.

1. BUDGETS (1000) budgets log-spaced over [min params, max params] of the data.
2. Each N's accuracy at a budget: from raw data, the best network of that N with params in
   [budget / DELTA, budget] (DELTA = 1.35); from fitted curves, each N's curve at the budget
   (every N with a successful fit is evaluated over the whole range, as the study did).
3. Label each budget with the N of highest accuracy (budgets where no N has a network in the
   window stay unlabelled and are skipped), merge consecutive equal labels into intervals.
   Intervals tile the range: an interval runs from its first budget to the next interval's
   first budget; the last one ends at the last budget.
4. Smooth: drop, all at once, every interval with log10(high / low) < MIN_WIDTH_DECADES (0.13).
   Each gap left between two kept intervals is split at its geometric (log-scale) midpoint,
   the lower half going to the interval below and the upper half to the one above; a gap at
   either end of the range goes to the nearest kept interval. Adjacent intervals with the same
   N are then merged. If every interval is narrower than the threshold, the widest one is kept
   and covers the range.
"""

from __future__ import annotations

import itertools
import math
from typing import NamedTuple

import numpy as np

from advisor.errors import AdvisorError
from advisor.scaling.models import Fit
from advisor.scaling.results import ResultsTable

BUDGETS = 1000
DELTA = 1.35
MIN_WIDTH_DECADES = 0.13


class Interval(NamedTuple):
    """Budgets in [low, high) parameters are best served by N = n."""

    low: float
    high: float
    n: int

    @property
    def width_decades(self) -> float:
        return math.log10(self.high / self.low)

    def to_dict(self) -> dict:
        return {"low": self.low, "high": self.high, "n": self.n}


def budgets(low: float, high: float, count: int = BUDGETS) -> np.ndarray:
    if not (0 < low < high):
        raise AdvisorError(f"budget range [{low:g}, {high:g}] is empty; need 0 < low < high.")
    return np.logspace(math.log10(low), math.log10(high), count)


def raw_accuracy(
    table: ResultsTable, grid: np.ndarray, delta: float = DELTA
) -> dict[int, np.ndarray]:
    """N -> best accuracy of that N's networks with params in [budget / delta, budget]
    (NaN where it has none)."""
    curves = {}
    for n, (params, accuracy) in table.by_n().items():
        best = np.full(len(grid), np.nan)
        for i, budget in enumerate(grid):
            inside = (params >= budget / delta) & (params <= budget)
            if inside.any():
                best[i] = accuracy[inside].max()
        curves[n] = best
    return curves


def fitted_accuracy(fits: dict[int, Fit], grid: np.ndarray) -> dict[int, np.ndarray]:
    """N -> that N's fitted curve at each budget (only N whose fit succeeded)."""
    return {n: np.asarray(fit.predict(grid), dtype=float) for n, fit in fits.items() if fit.ok}


def label(curves: dict[int, np.ndarray]) -> np.ndarray:
    """Best N per budget; 0 where no N has a value. Ties go to the smaller N."""
    ns = sorted(curves)
    stack = np.vstack([np.where(np.isfinite(curves[n]), curves[n], -np.inf) for n in ns])
    labels = np.array(ns)[np.argmax(stack, axis=0)]
    labels[~np.isfinite(stack.max(axis=0))] = 0
    return labels


def merge(grid: np.ndarray, labels: np.ndarray) -> list[Interval]:
    keep = labels > 0
    grid, labels = grid[keep], labels[keep]
    if len(grid) == 0:
        raise AdvisorError("no budget has a network of any N in its window; nothing to segment.")
    starts = [0] + [i for i in range(1, len(labels)) if labels[i] != labels[i - 1]]
    ends = [*starts[1:], len(grid) - 1]
    return [
        Interval(float(grid[s]), float(grid[e]), int(labels[s]))
        for s, e in zip(starts, ends)
        if grid[e] > grid[s]
    ]


def smooth(intervals: list[Interval], min_width: float = MIN_WIDTH_DECADES) -> list[Interval]:
    if not intervals:
        return []
    low, high = intervals[0].low, intervals[-1].high
    kept = [iv for iv in intervals if iv.width_decades >= min_width]
    if not kept:
        widest = max(intervals, key=lambda iv: iv.width_decades)
        return [Interval(low, high, widest.n)]
    edges = [low]
    for below, above in itertools.pairwise(kept):
        edges.append(math.sqrt(below.high * above.low))  # == below.high when there is no gap
    edges.append(high)
    rejoined = [Interval(edges[i], edges[i + 1], iv.n) for i, iv in enumerate(kept)]
    merged = [rejoined[0]]
    for iv in rejoined[1:]:
        if iv.n == merged[-1].n:
            merged[-1] = Interval(merged[-1].low, iv.high, iv.n)
        else:
            merged.append(iv)
    return merged


def segment_raw(table: ResultsTable, count: int = BUDGETS, delta: float = DELTA) -> list[Interval]:
    """Unsmoothed intervals from raw data."""
    grid = budgets(table.params.min(), table.params.max(), count)
    return merge(grid, label(raw_accuracy(table, grid, delta)))


def segment_fits(
    fits: dict[int, Fit], low: float, high: float, count: int = BUDGETS
) -> list[Interval]:
    """Unsmoothed intervals from fitted curves over [low, high]."""
    if not any(fit.ok for fit in fits.values()):
        raise AdvisorError("no N has a successful fit; cannot segment from fitted curves.")
    grid = budgets(low, high, count)
    return merge(grid, label(fitted_accuracy(fits, grid)))
