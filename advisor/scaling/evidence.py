"""The nearest measured networks: trained (or published) PhiNets closest to a recommendation,
so a user sees real evidence of accuracy even where no curve exists.

Networks come from every shipped prior with rows (its "results_file" or "results") and from the
user's prior when it has rows (a results file, or a prior JSON naming one). Ranking: the same
dataset only; the same N first; then the distance |ln(P / p)| + |ln(R / r)| in parameters P and
input resolution R (a factor of 2 in parameters weighs as much as a factor of 2 in
resolution); ties by higher accuracy, then by source, for a stable order.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from advisor.provenance import LITERATURE, TRAINING
from advisor.scaling.prior import FORMAT, Prior, available_priors, regime_key
from advisor.scaling.results import load_results

NEAREST = 5


@dataclass(frozen=True)
class Network:
    """One trained network: its config, size, regime and accuracy, and where that came from."""

    alpha: float
    beta: float
    t0: float
    num_layers: int
    params: int
    dataset: str
    resolution: int
    epochs: float
    accuracy: float  # top-1 %
    kind: str  # "literature" or "measured: training run"
    source: str
    prior: str  # the prior whose rows hold it

    def distance(self, num_layers: int, params: float, resolution: int) -> tuple:
        """Sort key: other N after the same N, then log-distance in parameters and resolution."""
        log_distance = abs(math.log(self.params / params)) + abs(
            math.log(self.resolution / resolution)
        )
        return (self.num_layers != num_layers, log_distance, -self.accuracy, self.source)

    def to_dict(self, num_layers: int, params: float, resolution: int) -> dict:
        same_n, log_distance, _, _ = self.distance(num_layers, params, resolution)
        return {
            "alpha": self.alpha,
            "beta": self.beta,
            "t0": self.t0,
            "num_layers": self.num_layers,
            "params": self.params,
            "accuracy": self.accuracy,
            "regime": {
                "dataset": self.dataset,
                "resolution": self.resolution,
                "epochs": int(self.epochs) if float(self.epochs).is_integer() else self.epochs,
            },
            "same_num_layers": not same_n,
            "log_distance": round(log_distance, 3),
            "kind": self.kind,
            "source": self.source,
            "prior": self.prior,
        }


def nearest(
    networks: list[Network],
    num_layers: int,
    params: float,
    resolution: int,
    dataset: str | None,
    count: int = NEAREST,
) -> list[Network]:
    """The `count` networks nearest (num_layers, params, resolution) on `dataset` (any dataset
    when None)."""
    wanted = None if dataset is None else regime_key(dataset)
    same_dataset = [n for n in networks if wanted is None or regime_key(n.dataset) == wanted]
    return sorted(same_dataset, key=lambda n: n.distance(num_layers, params, resolution))[:count]


def networks_for(prior: Prior | None = None) -> list[Network]:
    """Every shipped prior's networks, plus the rows behind `prior` when it has its own."""
    found, seen = [], set()
    for name, path in available_priors().items():
        rows = _rows_of(path)
        if rows is not None:
            found += _networks(*rows, name)
            seen.add(rows[0].resolve())
    if prior is not None and prior.path:
        rows = _rows_of(Path(prior.path))
        if rows is not None and rows[0].resolve() not in seen:
            found += _networks(*rows, prior.name)
    return found


def _rows_of(path: Path) -> tuple[Path, str] | None:
    """(results file, kind of its rows) behind a prior: the file itself, or the one a prior
    JSON names; None when it has no rows."""
    if not path.is_file():
        return None
    if path.suffix.lower() != ".json":
        return path, TRAINING
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return path, TRAINING  # a JSON-lines results file
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        return path, TRAINING
    name = data.get("results") or data.get("results_file")
    if not name:
        return None
    return path.parent / name, LITERATURE if data.get("kind") == LITERATURE else TRAINING


def _networks(path: Path, kind: str, prior: str) -> list[Network]:
    return list(_read(str(path.resolve()), path.stat().st_mtime_ns, kind, prior))


@functools.lru_cache(maxsize=32)
def _read(path: str, _mtime_ns: int, kind: str, prior: str) -> tuple[Network, ...]:
    """One read per file version: a --search-resolution run asks once per resolution."""
    table = load_results(path)
    columns = table.columns
    return tuple(
        Network(
            alpha=float(columns["alpha"][i]),
            beta=float(columns["beta"][i]),
            t0=float(columns["t0"][i]),
            num_layers=int(columns["num_layers"][i]),
            params=int(columns["params"][i]),
            dataset=str(columns["dataset"][i]),
            resolution=int(columns["resolution"][i]),
            epochs=float(columns["epochs"][i]),
            accuracy=float(columns["accuracy"][i]),
            kind=kind,
            source=str(columns["source"][i]),
            prior=prior,
        )
        for i in range(len(table))
    )
