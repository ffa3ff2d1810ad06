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


class CannotResume(AdvisorError):
    """``resume=True`` found a checkpoint that cannot be continued: unreadable, or of another
    config, recipe or data. ``reason`` says which, without advice on what to do about it."""

    def __init__(self, out_dir: Path, reason: str):
        self.reason = reason
        super().__init__(
            f"the run in {out_dir} cannot be resumed: {reason}; resume with the same "
            "settings and data, or use a new --out"
        )


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
    try:
        saved = checkpoint.read(paths["last"])
    except AdvisorError as err:
        raise CannotResume(out_dir, str(err)) from None
    changed = differences(saved["config"], config.to_dict()) + differences(
        saved["recipe"], recipe.to_dict()
    )
    if changed:
        raise CannotResume(
            out_dir, f"it was started with another config or recipe ({'; '.join(changed)})"
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
        raise CannotResume(
            paths["last"].parent, f"it was trained on other data ({'; '.join(changed)})"
        )
