"""Probe a training checkpoint on the data it was trained on: the same split and seed, the
same input normalisation and resolution, so "held-out" means held out from training too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from advisor.errors import AdvisorError
from advisor.probe.blocks import ProbeReport, probe_model
from advisor.probe.logistic import DEFAULT_L2, DEFAULT_MAX_ITER

SUBSET_SEED = 0
EVAL_SPLITS = ("test", "val")


def seeded_subset(count: int, limit: int | None, seed: int = SUBSET_SEED) -> torch.Tensor:
    """Sorted indices of a seeded random subset of ``limit`` out of ``count`` (all if fewer)."""
    if limit is None or limit >= count:
        return torch.arange(count)
    order = torch.randperm(count, generator=torch.Generator().manual_seed(seed))
    return order[:limit].sort().values


class CheckpointProber:
    """Callable: checkpoint path -> :class:`ProbeReport`. Decoded data sets are kept between
    calls, so probing the models of a sweep decodes each data set once."""

    def __init__(
        self,
        data: str | Path,
        *,
        max_images: int | None = 2000,
        eval_split: str = "test",
        l2: float = DEFAULT_L2,
        max_iter: int = DEFAULT_MAX_ITER,
        batch_size: int = 128,
        cache_dir: str | Path | None = None,
    ):
        if eval_split not in EVAL_SPLITS:
            raise AdvisorError(f"probes are scored on one of {EVAL_SPLITS}, not {eval_split!r}")
        self.data = data
        self.max_images = max_images
        self.eval_split = eval_split
        self.l2 = l2
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.cache_dir = cache_dir
        self._datasets: dict[tuple, Any] = {}

    def __call__(self, path: str | Path) -> ProbeReport:
        from advisor.training.augment import channel_stats, to_input
        from advisor.training.checkpoint import load_checkpoint

        path = Path(path)
        if not path.is_file():
            raise AdvisorError(
                f"checkpoint {path} does not exist; pass a best.pt or last.pt "
                "written by advisor train"
            )
        try:
            model, config, extra = load_checkpoint(path)
        except (RuntimeError, KeyError, TypeError, ValueError) as err:
            raise AdvisorError(
                f"checkpoint {path} does not load into a PhiNet ({type(err).__name__}: "
                f"{str(err).splitlines()[0]}); pass a best.pt or last.pt written by advisor train"
            ) from None
        recipe = extra.get("recipe") or {}
        data = self._dataset(config, recipe)
        normalization = extra.get("normalization") or {"mean": data.mean, "std": data.std}
        scale, shift = channel_stats(normalization["mean"], normalization["std"], "cpu")

        def prepare(batch: torch.Tensor) -> torch.Tensor:
            return to_input(batch, scale, shift, config.resolution)

        train = seeded_subset(len(data.train_labels), self.max_images)
        held_images = getattr(data, f"{self.eval_split}_images")
        held_labels = getattr(data, f"{self.eval_split}_labels")
        held = seeded_subset(len(held_labels), self.max_images)
        trained_on = (extra.get("data") or {}).get("fingerprint")
        details = {
            "checkpoint": str(path),
            "config": config.to_dict(),
            "data": data.source,
            "split": data.split,
            "eval_split": self.eval_split,
            "same_data_as_training": trained_on == data.fingerprint if trained_on else None,
        }
        return probe_model(
            model,
            data.train_images[train],
            data.train_labels[train],
            held_images[held],
            held_labels[held],
            num_classes=data.num_classes,
            prepare=prepare,
            batch_size=self.batch_size,
            l2=self.l2,
            max_iter=self.max_iter,
            details=details,
        )

    def _dataset(self, config, recipe: dict):
        from advisor.cache import user_cache_dir
        from advisor.training.data import load_dataset

        options = {
            "split": recipe.get("split", "70/15/15"),
            "seed": int(recipe.get("seed", 0)),
            "val_fraction": float(recipe.get("val_fraction", 0.1)),
            "channels": config.in_channels,
        }
        key = (str(self.data), config.resolution, tuple(sorted(options.items())))
        if key not in self._datasets:
            self._datasets[key] = load_dataset(
                self.data,
                config.resolution,
                cache_dir=self.cache_dir or user_cache_dir(),
                **options,
            )
        return self._datasets[key]
