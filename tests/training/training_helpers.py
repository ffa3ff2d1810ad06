"""Tiny generated image data sets for the training tests."""

import zipfile
from pathlib import Path

import numpy as np

# three classes a tiny PhiNet tells apart in a few epochs: a colour each, green with white rows,
# blue with black columns
CLASS_COLOURS = {"red": (210, 40, 40), "green": (40, 200, 40), "blue": (40, 40, 210)}


def make_image(label: int, rng: np.random.Generator, size: int = 16) -> np.ndarray:
    colour = np.array(list(CLASS_COLOURS.values())[label], dtype=np.float64)
    image = colour + rng.normal(0, 30, (size, size, 3))
    if label == 1:
        image[::4] = 255
    elif label == 2:
        image[:, ::4] = 0
    return image.clip(0, 255).astype(np.uint8)


def write_image_folder(
    root: Path, counts: dict[str, int], seed: int = 0, size: int = 16, suffix: str = ".png"
) -> Path:
    """root/<split>/<class>/<i>.png with counts[split] images per class."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for split, count in counts.items():
        for label, name in enumerate(CLASS_COLOURS):
            folder = root / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(count):
                Image.fromarray(make_image(label, rng, size)).save(folder / f"{i:03d}{suffix}")
    return root


def zip_folder(folder: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``folder``'s contents, under a top folder ``top`` when given (as cifar10-jpeg.zip)."""
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(folder.rglob("*")):
            name = path.relative_to(folder).as_posix()
            out.write(path, f"{top}/{name}" if top else name)
    return archive
