"""Does the shape of a model's probe-loss curve relate to its accuracy or its depth N?

Spearman rank correlations between each shape metric (advisor.probe.curve) and each target,
over the models of a sweep. The study found no clear link; with few models nothing can be
concluded, and the verdict says so. A link with N is partly mechanical for ``monotone``: a
deeper model has more consecutive pairs of blocks, so more chances of one probe-loss rise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

SHAPE_METRICS = ("normalized_area", "plateau_depth", "monotone", "loss_drop")
TARGETS = ("accuracy", "num_layers", "params")
# Below this many models a rank correlation would need |rho| > 0.65 to reach p < 0.05 even
# before correcting for the 12 pairs tested: report, but draw no conclusion.
MIN_MODELS = 10
SIGNIFICANCE = 0.05


@dataclass(frozen=True)
class Correlation:
    metric: str
    target: str
    n: int
    rho: float | None
    p_value: float | None
    verdict: str

    def to_dict(self) -> dict:
        return asdict(self)


def shape_correlations(models: Sequence[Mapping[str, float]]) -> list[Correlation]:
    """Spearman rho and p for every (shape metric, target) pair. ``models`` are mappings with
    the metric and target keys; entries that are None or NaN are left out pairwise."""
    from scipy.stats import spearmanr

    pairs = len(SHAPE_METRICS) * len(TARGETS)
    threshold = SIGNIFICANCE / pairs
    results = []
    for metric in SHAPE_METRICS:
        for target in TARGETS:
            points = [
                (float(model[metric]), float(model[target]))
                for model in models
                if _number(model.get(metric)) and _number(model.get(target))
            ]
            n = len(points)
            rho = p_value = None
            if n < MIN_MODELS:
                verdict = f"too few models to conclude (n = {n}, need {MIN_MODELS})"
            elif len({x for x, _ in points}) < 2 or len({y for _, y in points}) < 2:
                verdict = (
                    f"undefined: {metric if len({x for x, _ in points}) < 2 else target} "
                    "is the same for every model"
                )
            else:
                statistic = spearmanr([x for x, _ in points], [y for _, y in points])
                rho, p_value = float(statistic.statistic), float(statistic.pvalue)
                verdict = (
                    f"link (p < {threshold:.4f}, Bonferroni over {pairs} pairs)"
                    if p_value < threshold
                    else "no clear link"
                )
            results.append(Correlation(metric, target, n, rho, p_value, verdict))
    return results


def _number(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))
