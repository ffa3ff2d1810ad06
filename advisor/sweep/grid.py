"""Grids of PhiNet scaling factors: the study's, or one read from a TOML / JSON file.

A grid file holds either one list per factor (their Cartesian product is the grid)::

    alpha = [0.15, 0.3]
    beta = [0.75, 1.05]
    t0 = [4, 6]
    num_layers = [4, 5, 6]        # or N

or an explicit list of configurations::

    [[configs]]
    alpha = 0.15
    beta = 1.05
    t0 = 5
    num_layers = 7

(JSON: the same keys in an object, or a top-level array of configurations.) The resolution
and the number of classes are not part of a grid: the sweep's regime and data set fix them.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.files import read_text
from advisor.validation import MAX_LAYERS, integer, positive_real

STUDY_FACTORS: dict[str, tuple[float, ...]] = {
    "alpha": (0.15, 0.3, 0.5, 0.9, 1.5),
    "beta": (0.75, 1.05, 1.35),
    "t0": (4, 5, 6),
    "num_layers": (4, 5, 6, 7, 8, 9),
}
FACTORS = tuple(STUDY_FACTORS)
_ALIASES = {"N": "num_layers", "layers": "num_layers", "t_zero": "t0"}


@dataclass(frozen=True, order=True)
class GridPoint:
    """One PhiNet of a grid, before the regime fixes its resolution and classes."""

    alpha: float
    beta: float
    t0: float
    num_layers: int

    def __post_init__(self) -> None:
        # 4 and 4.0 are one configuration: normalize so that run ids agree
        for name in ("alpha", "beta", "t0"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "num_layers", int(self.num_layers))

    def config(self, resolution: int, num_classes: int = 10) -> PhiNetConfig:
        return PhiNetConfig(
            alpha=self.alpha,
            beta=self.beta,
            t0=self.t0,
            num_layers=self.num_layers,
            resolution=resolution,
            num_classes=num_classes,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "t0": self.t0,
            "num_layers": self.num_layers,
        }


def study_grid() -> list[GridPoint]:
    """The study's 5 x 3 x 3 x 6 = 270 configurations."""
    return _product(STUDY_FACTORS)


def load_grid(spec: str | Path) -> list[GridPoint]:
    """``"study"`` or the path of a TOML / JSON grid file; errors name the file and key."""
    if str(spec) == "study":
        return study_grid()
    path = Path(spec)
    data = _read(path)
    if isinstance(data, list):
        data = {"configs": data}
    if not isinstance(data, Mapping):
        raise AdvisorError(
            f"grid file {path} must hold a table of factor lists or a list of configs"
        )
    if "configs" in data:
        extra = sorted(set(data) - {"configs"})
        if extra:
            raise AdvisorError(
                f"grid file {path}: key(s) {extra} cannot sit beside 'configs'; "
                "give either factor lists or an explicit list of configs"
            )
        return _explicit(data["configs"], path)
    return _factors(data, path)


def _read(path: Path) -> Any:
    if not path.exists():
        raise AdvisorError(f"grid file {path} does not exist; pass 'study' or a TOML/JSON file")
    text = read_text(path, "grid file")
    if path.suffix.lower() == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as err:
            raise AdvisorError(f"grid file {path} is not valid JSON: {err}") from None
    if path.suffix.lower() == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise AdvisorError(f"grid file {path} is not valid TOML: {err}") from None
    raise AdvisorError(f"grid file {path} must end in .toml or .json")


def _canonical_key(key: str, path: Path, where: str) -> str:
    name = _ALIASES.get(key, key)
    if name not in FACTORS:
        raise AdvisorError(
            f"grid file {path}: unknown key {key!r}{where}; "
            f"expected {list(FACTORS)} (N is an alias of num_layers)"
        )
    return name


def _value(name: str, value: Any, path: Path, where: str) -> float | int:
    field = f"grid file {path}: {name}{where}"
    if name == "num_layers":
        return integer(value, field, low=1, high=MAX_LAYERS, fix="e.g. N = [4, 5, 7]")
    return positive_real(value, field, fix=f"e.g. {name} = [0.5, 1.0]")


def _factors(data: Mapping[str, Any], path: Path) -> list[GridPoint]:
    factors: dict[str, list] = {}
    for key, values in data.items():
        name = _canonical_key(key, path, "")
        if name in factors:
            raise AdvisorError(f"grid file {path}: {name} is given twice (as {key!r} and an alias)")
        if not isinstance(values, list):
            values = [values]
        if not values:
            raise AdvisorError(
                f"grid file {path}: the list for {key!r} is empty; give at least one value"
            )
        factors[name] = [_value(name, v, path, "") for v in values]
    missing = [name for name in FACTORS if name not in factors]
    if missing:
        raise AdvisorError(
            f"grid file {path} lacks {missing}; give a list for each of {list(FACTORS)}"
        )
    return _product(factors)


def _explicit(configs: Any, path: Path) -> list[GridPoint]:
    if not isinstance(configs, list) or not configs:
        raise AdvisorError(
            f"grid file {path}: 'configs' must be a non-empty list of configurations"
        )
    points = []
    for index, entry in enumerate(configs):
        where = f" in configs[{index}]"
        if not isinstance(entry, Mapping):
            raise AdvisorError(f"grid file {path}: configs[{index}] must be a table of factors")
        values: dict[str, Any] = {}
        for key, value in entry.items():
            name = _canonical_key(key, path, where)
            values[name] = _value(name, value, path, where)
        missing = [name for name in FACTORS if name not in values]
        if missing:
            raise AdvisorError(f"grid file {path}: configs[{index}] lacks {missing}")
        points.append(GridPoint(**values))
    return _unique(points)


def _product(factors: Mapping[str, Iterable]) -> list[GridPoint]:
    combos = itertools.product(*(factors[name] for name in FACTORS))
    return _unique(GridPoint(*combo) for combo in combos)


def _unique(points: Iterable[GridPoint]) -> list[GridPoint]:
    return list(dict.fromkeys(points))
