"""The one generator of tiny image-folder data sets for the tests and benchmarks:
root/<split>/<colour>/NNN.png, noisy images whose dominant channel is the class, learnable by a
tiny PhiNet in an epoch; and the zip of such a folder."""

import zipfile
from pathlib import Path

import numpy as np

CHANNEL_OF_COLOUR = {"red": 0, "green": 1, "blue": 2}


def write_colour_folder(
    root: Path,
    counts: dict[str, int],
    colours=("red", "green", "blue"),
    size: int = 16,
    seed: int = 0,
    noise: int = 110,
    boost: int = 140,
) -> Path:
    """counts[split] images per colour; pixels uniform in [0, noise), the class channel + boost."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        for colour in colours:
            folder = root / split / colour
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                pixels = rng.integers(0, noise, size=(size, size, 3))
                pixels[..., CHANNEL_OF_COLOUR[colour]] += boost
                Image.fromarray(pixels.astype(np.uint8)).save(folder / f"{index:03d}.png")
    return root


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``folder``'s contents, under a top folder ``top`` when given (as cifar10-jpeg.zip)."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            out.write(path, f"{top}/{name}" if top else name)
    return archive
