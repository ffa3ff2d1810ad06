"""Probe every model of a sweep store that has a checkpoint, and relate curve shape to
accuracy and N (advisor.probe.relation)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorError
from advisor.probe.blocks import PROBE_SOURCE, ProbeReport
from advisor.probe.relation import MIN_MODELS, Correlation, shape_correlations


@dataclass
class SweepProbe:
    store: str
    models: list[dict[str, Any]] = field(default_factory=list)  # probed: row facts + shape
    reports: list[tuple[str, ProbeReport]] = field(default_factory=list)  # (label, report)
    skipped: list[dict[str, str]] = field(default_factory=list)  # run_id + why
    correlations: list[Correlation] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        monotone = sum(1 for model in self.models if model["monotone"])
        return {
            "store": self.store,
            "models": self.models,
            "skipped": self.skipped,
            "monotone_models": monotone,
            "enough_models": len(self.models) >= MIN_MODELS,
            "min_models": MIN_MODELS,
            "correlations": [c.to_dict() for c in self.correlations],
            "source": PROBE_SOURCE + "; accuracy and params from the sweep store",
        }


def stored_runs(store_path: str | Path) -> list[dict[str, Any]]:
    """Finished runs of a sweep store, without creating a store where there is none."""
    from advisor.sweep.store import DONE, SweepStore

    path = Path(store_path)
    if not path.is_file():
        raise AdvisorError(
            f"sweep store {path} does not exist; pass the --store of an earlier `advisor sweep`"
        )
    with SweepStore(path, read_only=True) as store:
        return store.rows(DONE)


def checkpoint_of(row: dict[str, Any], store_path: Path) -> Path | None:
    """The run's checkpoint file: the recorded path, else that path under the store's folder,
    else the sweep's default layout beside the store (``<store>.runs/<run_id>/<file>``), so
    that relative paths work from another folder and a moved sweep folder still works."""
    if not row.get("checkpoint"):
        return None
    recorded = Path(row["checkpoint"])
    candidates = [
        recorded,
        store_path.parent / recorded,
        store_path.with_suffix(".runs") / str(row["run_id"]) / recorded.name,
    ]
    return next((path for path in candidates if path.is_file()), None)


def probe_sweep(
    store_path: str | Path,
    probe_checkpoint: Callable[[Path], ProbeReport],
    *,
    on_model: Callable[[int, int, str], None] | None = None,
) -> SweepProbe:
    """Probe each finished run with ``probe_checkpoint(path)``; runs without a readable
    checkpoint or whose probe fails on bad input are listed in ``skipped`` with the reason."""
    store_path = Path(store_path)
    rows = stored_runs(store_path)
    result = SweepProbe(store=str(store_path))
    for position, row in enumerate(rows):
        label = f"N={row['num_layers']} a={row['alpha']:g} b={row['beta']:g} t0={row['t0']:g}"
        if on_model:
            on_model(position, len(rows), label)
        checkpoint = checkpoint_of(row, store_path)
        if checkpoint is None:
            reason = (
                "no checkpoint recorded"
                if not row.get("checkpoint")
                else f"checkpoint {row['checkpoint']} not found"
            )
            result.skipped.append({"run_id": row["run_id"], "reason": reason})
            continue
        try:
            report = probe_checkpoint(checkpoint)
        except AdvisorError as err:
            result.skipped.append({"run_id": row["run_id"], "reason": str(err)})
            continue
        shape = report.shape.to_dict()
        result.models.append(
            {
                "run_id": row["run_id"],
                "checkpoint": str(checkpoint),
                "alpha": row["alpha"],
                "beta": row["beta"],
                "t0": row["t0"],
                "num_layers": row["num_layers"],
                "params": row["params"],
                "accuracy": row["accuracy"],
                "last_test_loss": report.test_losses[-1],
                **shape,
                "same_data_as_training": report.details.get("same_data_as_training"),
                "blocks": [asdict(block) for block in report.blocks],
            }
        )
        result.reports.append((label, report))
    result.correlations = shape_correlations(result.models)
    return result
