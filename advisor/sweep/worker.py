"""One run of a sweep, as executed in a worker process (local or Ray).

A worker loads its data set once and reuses it for every run it is given. It never writes
the store: it returns the finished row to the driver, the store's one writer.
"""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from advisor.provenance import TRAINING
from advisor.sweep.grid import GridPoint
from advisor.sweep.regime import Regime
from advisor.sweep.store import DONE, FAILED

# (data source, resolution, loading options) -> DataSplits, kept for the worker's lifetime
_DATASETS: dict[tuple, Any] = {}


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run; picklable for process pools and Ray."""

    run_id: str
    point: GridPoint
    regime: Regime
    recipe: Mapping[str, Any]  # the full recipe, seed included
    data: str
    out_dir: str
    device: str | None = None
    data_options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def seed(self) -> int:
        return int(self.recipe.get("seed", 0))

    def base_row(self) -> dict[str, Any]:
        """The columns known before the run: its identity, regime and provenance."""
        return {
            "run_id": self.run_id,
            **self.point.to_dict(),
            "resolution": self.regime.resolution,
            "dataset": self.regime.dataset,
            "epochs": self.regime.epochs,
            "seed": self.seed,
            "source": TRAINING,
            "regime_id": self.regime.regime_id,
            "regime": self.regime.to_dict(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "device": self.device,
            "started_at": now(),
        }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def init_worker(threads: int | None, driver_pid: int) -> None:
    """Process-pool initializer: split the cores between workers, and die with the driver.

    A driver killed with SIGKILL cannot stop its pool; an orphaned worker would go on
    training (and writing the run's folder) beside the rerun that replaces it.
    """
    from advisor.training.session import set_threads

    set_threads(threads)
    watchdog = threading.Thread(target=_exit_when_orphaned, args=(driver_pid,), daemon=True)
    watchdog.start()


def _exit_when_orphaned(driver_pid: int) -> None:
    while os.getppid() == driver_pid:
        time.sleep(1)
    os._exit(1)


def dataset(task: RunTask):
    """The task's data set, decoded and split once per worker process."""
    from advisor.training.data import load_dataset

    recipe = task.recipe
    options = {
        "split": recipe["split"],
        "seed": int(recipe["seed"]),
        "val_fraction": recipe["val_fraction"],
        "num_workers": recipe["num_workers"],
        **task.data_options,
    }
    key = (task.data, task.regime.resolution, json.dumps(options, sort_keys=True, default=str))
    if key not in _DATASETS:
        _DATASETS[key] = load_dataset(task.data, task.regime.resolution, **options)
    return _DATASETS[key]


def execute(task: RunTask) -> dict[str, Any]:
    """Train one configuration; a failure becomes a 'failed' row with its error text."""
    row = task.base_row()
    try:
        row.update(_train(task))
        row["status"] = DONE
    except Exception as err:
        row["status"] = FAILED
        row["error"] = f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=-3)}"
    row["finished_at"] = now()
    return row


def _train(task: RunTask) -> dict[str, Any]:
    from advisor.cost import estimate
    from advisor.training.recipe import Recipe
    from advisor.training.rundir import CannotResume
    from advisor.training.trainer import train

    data = dataset(task)
    config = task.point.config(task.regime.resolution, num_classes=data.num_classes)
    out_dir = Path(task.out_dir)
    notes: list[str] = []

    def run(resume: bool):
        return train(
            config,
            data,
            out_dir,
            Recipe.from_dict(task.recipe),
            resume=resume,
            device=task.device,
            progress=False,
        )

    # a run in flight when an earlier sweep died continues from its last epoch
    try:
        result = run(resume=(out_dir / "last.pt").is_file())
    except CannotResume as err:
        kept = set_aside(out_dir)
        notes.append(
            f"restarted from scratch: its checkpoint could not be resumed ({err.reason}); "
            f"the old run folder is kept at {kept}"
        )
        result = run(resume=False)
    if result.test_accuracy is None:
        raise RuntimeError(
            f"training stopped after {result.epochs_completed} of "
            f"{task.regime.epochs} epochs; no test accuracy"
        )
    costs = estimate(config).to_dict()
    return {
        "config": config.to_dict(),
        "params": int(costs["params"]),
        "macs": int(costs["macs"]),
        "peak_ram_bytes": int(costs["peak_ram_bytes"]),
        "flash_bytes": int(costs["flash_bytes"]),
        "accuracy": 100.0 * result.test_accuracy,
        "val_accuracy": 100.0 * result.best_val_accuracy,
        "seconds": float(result.seconds),
        "images_per_second": float(result.images_per_second),
        "epochs_completed": int(result.epochs_completed),
        "device": result.device,
        "checkpoint": str(result.checkpoint),
        "error": "; ".join(notes) or None,
    }


def set_aside(out_dir: Path) -> Path:
    """Rename a run folder that cannot be continued to <name>.unresumable-<n> beside it."""
    for n in range(1, 10_000):
        kept = out_dir.with_name(f"{out_dir.name}.unresumable-{n}")
        if not kept.exists():
            out_dir.rename(kept)
            return kept
    raise RuntimeError(f"too many set-aside copies of {out_dir}")
