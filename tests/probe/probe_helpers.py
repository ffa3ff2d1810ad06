"""Tiny generated data and real tiny checkpoints for the probe tests."""

from pathlib import Path

import numpy as np

CLASSES = {"red": 0, "green": 1, "blue": 2}


def write_colour_folder(root: Path, per_split=(("train", 24), ("test", 10)), size=16, seed=0) -> Path:
    """root/<split>/<colour>/*.png: noisy images whose dominant channel is the class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in per_split:
        for name, channel in CLASSES.items():
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                pixels = rng.integers(0, 110, size=(size, size, 3))
                pixels[..., channel] += 140
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{index:03d}.png")
    return root


def train_tiny(config: dict, data: Path, out: Path, resolution: int = 16) -> Path:
    """A real checkpoint from advisor's trainer: one epoch of a tiny PhiNet."""
    from advisor.config import PhiNetConfig
    from advisor.training.recipe import Recipe
    from advisor.training.trainer import train

    phinet = PhiNetConfig.from_dict({**config, "resolution": resolution, "num_classes": 3})
    recipe = Recipe(epochs=1, warmup_epochs=0, resolution=resolution, batch_size=16,
                    split="test+val", bf16=False, num_workers=1)
    return train(phinet, data, out, recipe, progress=False, cache_dir=out.parent / "cache").checkpoint
