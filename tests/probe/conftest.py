from pathlib import Path

import numpy as np
import pytest

CLASSES = {"red": 0, "green": 1, "blue": 2}


@pytest.fixture(autouse=True)
def one_torch_thread():
    """torch's intra-op threads spin against each other on the shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


@pytest.fixture(scope="session")
def colour_data(tmp_path_factory) -> Path:
    return write_colour_folder(tmp_path_factory.mktemp("probe-data") / "colours")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, colour_data) -> Path:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train_tiny({"alpha": 0.25, "beta": 1.0, "t0": 4, "num_layers": 4}, colour_data,
                          tmp_path_factory.mktemp("probe-run") / "run")
    finally:
        torch.set_num_threads(before)
