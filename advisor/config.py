"""The one description of a PhiNet that every part of the tool passes around."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.files import read_json_object
from advisor.validation import (
    MAX_CHANNELS,
    MAX_CLASSES,
    MAX_LAYERS,
    MAX_RESOLUTION,
    integer,
    positive_real,
)

_ALIASES = {
    "N": "num_layers",
    "layers": "num_layers",
    "t_zero": "t0",
    "classes": "num_classes",
    "channels": "in_channels",
}


@dataclass(frozen=True)
class PhiNetConfig:
    """Scaling factors and options of a PhiNet, as micromind 0.2.1's ``PhiNet`` takes them.

    ``resolution`` is the side of a square input. ``include_top`` adds the global average
    pool and linear classifier (micromind's default is False; a deployed classifier has it).
    """

    alpha: float
    beta: float
    t0: float
    num_layers: int
    resolution: int = 160
    in_channels: int = 3
    num_classes: int = 10
    divisor: int = 1
    downsampling_layers: tuple[int, ...] = (5, 7)
    squeeze_excite: bool = True
    h_swish: bool = True
    residuals: bool = True
    include_top: bool = True

    def __post_init__(self) -> None:
        for name, example in (("alpha", "0.5"), ("beta", "1.0"), ("t0", "6")):
            positive_real(getattr(self, name), f"PhiNet {name}", fix=f"e.g. {name} {example}")
        for name, high in (
            ("num_layers", MAX_LAYERS),
            ("resolution", MAX_RESOLUTION),
            ("in_channels", MAX_CHANNELS),
            ("num_classes", MAX_CLASSES),
            ("divisor", None),
        ):
            value = integer(
                getattr(self, name),
                f"PhiNet {name}",
                low=1,
                high=high,
                fix="see advisor/validation.py for why the bounds are what they are",
            )
            object.__setattr__(self, name, value)
        object.__setattr__(
            self,
            "downsampling_layers",
            tuple(
                integer(i, "PhiNet downsampling_layers", low=1, high=MAX_LAYERS)
                for i in self.downsampling_layers
            ),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["downsampling_layers"] = list(self.downsampling_layers)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PhiNetConfig:
        """Build from a flat mapping or from a recommendation / report JSON with a "config" key."""
        if "config" in data and isinstance(data["config"], Mapping):
            data = data["config"]
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            name = _ALIASES.get(key, key)
            if name not in known:
                raise AdvisorError(
                    f"unknown PhiNet config key {key!r}; expected some of {sorted(known)}"
                )
            kwargs[name] = value
        missing = {"alpha", "beta", "t0", "num_layers"} - kwargs.keys()
        if missing:
            raise AdvisorError(f"PhiNet config lacks {sorted(missing)}")
        return cls(**kwargs)

    @classmethod
    def from_json_file(cls, path: str | Path) -> PhiNetConfig:
        return cls.from_dict(read_json_object(path, "config file"))
