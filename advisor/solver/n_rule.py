"""Choosing the number of layers N from what each N can reach within every budget.

The study keys N on the parameter budget alone ("the flash budget fixes N"). On a board
where RAM or MACs bind first, the size an N can actually reach is smaller than the flash
budget, and that reachable size is what places it on the prior's segmentation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NChoice:
    """The chosen N, the rule that chose it, and the study's flash-only N for comparison.
    `reachable` maps each N to the most parameters it reaches within the budgets (None: no
    PhiNet of that depth fits); `predicted` maps N to the prior's predicted accuracy at that
    size (empty without fitted curves)."""

    num_layers: int
    rule: str
    flash_rule_num_layers: int
    reachable: dict[int, int | None]
    predicted: dict[int, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "num_layers": self.num_layers,
            "rule": self.rule,
            "flash_only_num_layers": self.flash_rule_num_layers,
            "differs_from_flash_only": self.num_layers != self.flash_rule_num_layers,
            "reachable_params": {str(n): p for n, p in self.reachable.items()},
            "predicted_accuracy": {str(n): a for n, a in self.predicted.items()},
        }


def choose_num_layers(reachable: dict[int, int | None], prior, flash_budget_bytes: int) -> NChoice:
    """N for the budgets, given the most parameters each N reaches within them.

    With fitted curves: the N of highest predicted accuracy at its reachable size. Without:
    the N that the segmentation names best at its own reachable size (a fixed point of
    N -> best_n(reachable[N])); of several, the one reaching the most parameters, because
    the best-of-all-N accuracy rises with the parameter count. Failing a fixed point, the
    N whose reachable size lies nearest (on a log scale) to that N's own interval.
    """
    flash_rule = prior.best_n(flash_budget_bytes)
    sizes = {n: p for n, p in reachable.items() if p is not None and p > 0}
    if not sizes:
        raise ValueError("no N reaches any size: the caller handles 'nothing fits'")
    if prior.has_curves:
        predicted = {}
        for n, params in sizes.items():
            prediction = prior.predict(n, params)
            if prediction is not None:
                predicted[n] = float(prediction.accuracy)
        if predicted:
            best = max(predicted, key=lambda n: (predicted[n], sizes[n]))
            return NChoice(
                best,
                f"highest predicted accuracy ({prior.name}) at the parameter "
                f"count each N reaches within every budget",
                flash_rule,
                dict(reachable),
                predicted,
            )
    consistent = [n for n, params in sizes.items() if prior.best_n(params) == n]
    if consistent:
        best = max(consistent, key=lambda n: sizes[n])
        rule = (
            f"segmentation of {prior.name} at the parameter count each N reaches within "
            f"every budget: N={best} is the best N for the {sizes[best]:,} parameters it "
            f"reaches"
        )
        return NChoice(best, rule, flash_rule, dict(reachable))
    distance = {n: _log_distance(params, _intervals_of(prior, n)) for n, params in sizes.items()}
    best = min(distance, key=lambda n: (distance[n], -sizes[n]))
    rule = (
        f"segmentation of {prior.name}: no N is the best N at the size it reaches; N={best} "
        f"reaches {sizes[best]:,} parameters, nearest to its own interval"
    )
    return NChoice(best, rule, flash_rule, dict(reachable))


def _intervals_of(prior, num_layers: int) -> list[tuple[float, float]]:
    return [(low, high) for low, high, n in prior.intervals if n == num_layers]


def _log_distance(params: int, intervals: list[tuple[float, float]]) -> float:
    if not intervals:
        return math.inf
    distances = []
    for low, high in intervals:
        if low <= params < high:
            return 0.0
        edge = low if params < low else high
        distances.append(abs(math.log10(params) - math.log10(max(edge, 1.0))))
    return min(distances)
