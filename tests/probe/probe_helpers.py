"""Tiny generated data and real tiny checkpoints for the probe tests."""

from pathlib import Path

import synthetic_images


def write_colour_folder(
    root: Path, per_split=(("train", 24), ("test", 10)), size=16, seed=0
) -> Path:
    """root/<split>/<colour>/*.png: noisy images whose dominant channel is the class."""
    return synthetic_images.write_colour_folder(root, dict(per_split), size=size, seed=seed)


def train_tiny(config: dict, data: Path, out: Path, resolution: int = 16) -> Path:
    """A real checkpoint from advisor's trainer: one epoch of a tiny PhiNet."""
    from advisor.config import PhiNetConfig
    from advisor.training.recipe import Recipe
    from advisor.training.trainer import train

    phinet = PhiNetConfig.from_dict({**config, "resolution": resolution, "num_classes": 3})
    recipe = Recipe(
        epochs=1,
        warmup_epochs=0,
        resolution=resolution,
        batch_size=16,
        split="test+val",
        bf16=False,
        num_workers=1,
    )
    return train(
        phinet, data, out, recipe, progress=False, cache_dir=out.parent / "cache"
    ).checkpoint
