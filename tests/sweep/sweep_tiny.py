"""Tiny data and grids for the sweep tests."""

import numpy as np

# Tiny networks (they train in about a second at 8x8) and the options of a tiny sweep.
TINY_CONFIGS = [
    {"alpha": 0.15, "beta": 1.0, "t0": 4, "num_layers": 4},
    {"alpha": 0.15, "beta": 1.0, "t0": 4, "num_layers": 5},
    {"alpha": 0.2, "beta": 1.0, "t0": 4, "num_layers": 4},
    {"alpha": 0.2, "beta": 1.0, "t0": 4, "num_layers": 5},
]
TINY_REGIME = ["--resolution", "8", "--epochs", "1", "--warmup-epochs", "0", "--batch-size", "8",
               "--threads", "1"]


def write_image_folder(root, per_class=(12, 6), size=8, seed=0):
    """root/{train,test}/{red,blue}/*.png: two colour classes with noise, learnable in an epoch."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in zip(("train", "test"), per_class):
        for label, channel in (("red", 0), ("blue", 2)):
            folder = root / split / label
            folder.mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(0, 90, size=(size, size, 3))
                pixels[..., channel] += 150
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{index:03d}.png")
    return root
