"""A training run's directory: config.json, recipe.json, data.json, metrics.jsonl, last.pt,
best.pt, result.json; its JSON files written atomically, and the checks that a resumed run
has the settings it was started with."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from advisor.atomic import write_text_atomic
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.training import checkpoint
from advisor.training.data import DataSplits
from advisor.training.recipe import Recipe

# what identifies the data a run was trained on
DATA_IDENTITY = ("fingerprint", "split", "seed", "classes", "sizes", "mean", "std")


def run_paths(out_dir: Path) -> dict[str, Path]:
    return {
        name: out_dir / file
        for name, file in (
            ("config", "config.json"),
            ("recipe", "recipe.json"),
            ("data", "data.json"),
            ("metrics", "metrics.jsonl"),
            ("last", "last.pt"),
            ("best", "best.pt"),
            ("result", "result.json"),
        )
    }


def write_json(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=2) + "\n")


def write_metrics(path: Path, records: list[dict]) -> None:
    """metrics.jsonl, one record a line, replacing what is there."""
    write_text_atomic(path, "".join(json.dumps(record) + "\n" for record in records))


def differences(saved: dict, current: dict) -> list[str]:
    return [
        f"{key}: {saved.get(key)!r} -> {current.get(key)!r}"
        for key in sorted(set(saved) | set(current))
        if saved.get(key) != current.get(key)
    ]


def saved_run(
    paths: dict[str, Path], config: PhiNetConfig, recipe: Recipe, resume: bool
) -> dict[str, Any] | None:
    """The run's last.pt when resuming (None otherwise), after checking that a new run does
    not overwrite one and that a resumed one keeps its config and recipe."""
    out_dir = paths["last"].parent
    if paths["last"].exists() and not resume:
        raise AdvisorError(
            f"{out_dir} already holds a training run ({paths['last'].name}); pass "
            f"--resume to continue it, or choose another --out"
        )
    if not resume:
        return None
    if not paths["last"].exists():
        raise AdvisorError(
            f"nothing to resume: {paths['last']} does not exist; train without --resume first"
        )
    saved = checkpoint.read(paths["last"])
    changed = differences(saved["config"], config.to_dict()) + differences(
        saved["recipe"], recipe.to_dict()
    )
    if changed:
        raise AdvisorError(
            f"the run in {out_dir} was started with another config or recipe "
            f"({'; '.join(changed)}); resume with the same settings or use a "
            f"new --out"
        )
    return saved


def check_same_data(paths: dict[str, Path], saved: dict[str, Any], data: DataSplits) -> None:
    """A resumed run must train on the data it started with."""
    described = data.describe()
    changed = differences(
        {key: saved["data"][key] for key in DATA_IDENTITY},
        {key: described[key] for key in DATA_IDENTITY},
    )
    if changed:
        raise AdvisorError(
            f"the run in {paths['last'].parent} was trained on other data "
            f"({'; '.join(changed)}); resume with the same data or use a new "
            f"--out"
        )
