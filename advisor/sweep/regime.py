"""The training regime of a sweep, and the run ids derived from it.

A scaling prior is valid only for the regime its networks were trained in (data set,
resolution, epochs, the rest of the recipe), so every stored run carries its regime and
a store refuses to mix regimes unless asked.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from advisor.sweep.grid import GridPoint
from advisor.sweep.recipe import NOT_REGIME


def _digest(data: Any, length: int) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


@dataclass(frozen=True)
class Regime:
    """Data set label plus every recipe setting that shapes what is learned, except the seed
    (which is per run)."""

    dataset: str
    resolution: int
    epochs: int
    recipe: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_recipe(cls, dataset: str, recipe_dict: Mapping[str, Any]) -> Regime:
        settings = {
            key: value
            for key, value in recipe_dict.items()
            if key != "seed" and key not in NOT_REGIME
        }
        return cls(
            dataset=dataset,
            resolution=int(settings["resolution"]),
            epochs=int(settings["epochs"]),
            recipe=settings,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "resolution": self.resolution,
            "epochs": self.epochs,
            "recipe": dict(self.recipe),
        }

    @property
    def regime_id(self) -> str:
        return _digest(self.to_dict(), 12)

    def label(self) -> str:
        return f"{self.dataset}, {self.resolution}x{self.resolution}, {self.epochs} epochs"


def run_id(point: GridPoint, regime: Regime, seed: int) -> str:
    """Deterministic id of one training run: the same config, regime and seed give the same id."""
    return _digest({"config": point.to_dict(), "regime": regime.to_dict(), "seed": int(seed)}, 16)
