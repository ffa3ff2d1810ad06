"""The shape of a probe-loss curve over relative depth (stem = 0, last block = 1)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from advisor.errors import AdvisorError

# A rise of the probe loss smaller than this (nats) between consecutive blocks still counts
# as "falling": probe losses are fitted on a finite sample and carry noise of this order.
MONOTONE_TOLERANCE = 0.01
# The loss "stops falling" at the first block that has made this fraction of the total drop.
PLATEAU_FRACTION = 0.9


@dataclass(frozen=True)
class CurveShape:
    """``normalized_area``: area under the min-max normalized loss over relative depth in
    [0, 1] (0.5 = a straight fall; small = the loss falls early; large = it falls late).
    ``plateau_depth``: relative depth of the first block whose loss has made 90 % of the drop
    from the stem to the best block. ``monotone``: no block raises the loss by more than
    ``MONOTONE_TOLERANCE``. ``loss_drop``: stem loss minus last-block loss (nats)."""

    monotone: bool
    normalized_area: float
    plateau_depth: float
    loss_drop: float

    def to_dict(self) -> dict:
        return {
            key: (None if isinstance(value, float) and math.isnan(value) else value)
            for key, value in asdict(self).items()
        }


def relative_depths(count: int) -> np.ndarray:
    """Depth of each of ``count`` block outputs scaled to [0, 1]."""
    return np.linspace(0.0, 1.0, count) if count > 1 else np.zeros(count)


def curve_shape(losses: Sequence[float], *, tolerance: float = MONOTONE_TOLERANCE) -> CurveShape:
    loss = np.asarray(losses, dtype=float)
    if loss.ndim != 1 or len(loss) < 2:
        raise AdvisorError(f"a probe-loss curve needs at least 2 blocks, got {len(loss)}")
    monotone = bool(np.all(np.diff(loss) <= tolerance))
    depth = relative_depths(len(loss))
    span = loss.max() - loss.min()
    if span > 0:
        normalized = (loss - loss.min()) / span
        area = float(np.sum((normalized[1:] + normalized[:-1]) / 2 * np.diff(depth)))
    else:
        area = math.nan
    drop_to_best = loss[0] - loss.min()
    if drop_to_best > 0:
        reached = loss <= loss[0] - PLATEAU_FRACTION * drop_to_best
        plateau = float(depth[int(np.argmax(reached))])
    else:
        plateau = 0.0
    return CurveShape(
        monotone=monotone,
        normalized_area=area,
        plateau_depth=plateau,
        loss_drop=float(loss[0] - loss[-1]),
    )
