"""Tiny data and grids for the sweep tests."""

from synthetic_images import write_colour_folder

# Tiny networks (they train in about a second at 8x8) and the options of a tiny sweep.
TINY_CONFIGS = [
    {"alpha": 0.15, "beta": 1.0, "t0": 4, "num_layers": 4},
    {"alpha": 0.15, "beta": 1.0, "t0": 4, "num_layers": 5},
    {"alpha": 0.2, "beta": 1.0, "t0": 4, "num_layers": 4},
    {"alpha": 0.2, "beta": 1.0, "t0": 4, "num_layers": 5},
]
TINY_REGIME = [
    "--resolution",
    "8",
    "--epochs",
    "1",
    "--batch-size",
    "8",
    "--threads",
    "1",
]


def write_image_folder(root, per_class=(12, 6), size=8, seed=0):
    """root/{train,test}/{red,blue}/*.png: two colour classes with noise, learnable in an epoch."""
    counts = dict(zip(("train", "test"), per_class))
    return write_colour_folder(
        root, counts, colours=("red", "blue"), size=size, seed=seed, noise=90, boost=150
    )
