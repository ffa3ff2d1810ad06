"""The training recipe of a sweep: the study's, with the sweep's overrides."""

from __future__ import annotations

from typing import Any

# settings that change how fast a run goes, not what it learns: not part of a regime
NOT_REGIME = ("num_workers", "eval_batch_size")


def recipe_dict(
    resolution: int,
    epochs: int,
    warmup_epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int | None = None,
) -> dict[str, Any]:
    """``Recipe.study(epochs)`` with the given settings replaced, as a plain (picklable) dict.

    ``epochs`` counts every epoch, warm-up included; the warm-up keeps the study's share of
    them unless ``warmup_epochs`` is given (``Recipe.study``)."""
    from advisor.training.recipe import Recipe

    overrides: dict[str, Any] = {
        "resolution": resolution,
        "epochs": epochs,
        "warmup_epochs": warmup_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
    }
    return Recipe.study(**{k: v for k, v in overrides.items() if v is not None}).to_dict()
