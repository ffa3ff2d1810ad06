"""The training recipe of a sweep: the study's, with the sweep's overrides."""

from __future__ import annotations

import dataclasses
from typing import Any

from advisor.errors import AdvisorError


def recipe_dict(resolution: int, epochs: int, warmup_epochs: int | None = None,
                batch_size: int | None = None, lr: float | None = None,
                seed: int | None = None) -> dict[str, Any]:
    """``Recipe.study()`` with the given settings replaced, as a plain (picklable) dict."""
    from advisor.training.recipe import Recipe

    overrides = {"resolution": resolution, "epochs": epochs, "warmup_epochs": warmup_epochs,
                 "batch_size": batch_size, "lr": lr, "seed": seed}
    try:
        recipe = dataclasses.replace(
            Recipe.study(), **{key: value for key, value in overrides.items() if value is not None})
    except (TypeError, ValueError) as err:
        raise AdvisorError(f"invalid training recipe: {err}") from None
    return dataclasses.asdict(recipe)
