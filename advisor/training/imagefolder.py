"""Image-folder data sets, ``root/<split>/<class>/*.jpg|png`` (or ``root/<class>/...`` with no
splits), as a folder or a zip archive, decoded once into uint8 arrays."""

from __future__ import annotations

import io
import logging
import os
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np

from advisor.errors import AdvisorError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
SPLIT_NAMES = {"train": "train", "test": "test", "val": "val", "valid": "val", "validation": "val"}
# The order pools are concatenated in before a 70/15/15 split: fixed, never a set's order
SPLIT_ORDER = ("all", "train", "val", "test")


def ordered_splits(names) -> list[str]:
    """Split names in SPLIT_ORDER (the order their images are pooled and re-split in)."""
    return sorted(names, key=lambda name: (SPLIT_ORDER.index(name), name))


@dataclass
class Listing:
    """Where every image of every split and class is; ``read`` returns a file's bytes."""

    source: Path
    splits: dict[str, dict[str, list[str]]]  # split -> class -> file names (read keys)
    read: Callable[[str], bytes]
    skipped: list[str] = field(default_factory=list)


def _hidden(parts: tuple[str, ...]) -> bool:
    return any(p.startswith(".") or p == "__MACOSX" for p in parts)


def _group(
    entries: list[tuple[tuple[str, ...], str]], folders: set[tuple[str, ...]], source: Path
) -> dict[str, dict[str, list[str]]]:
    """Group (relative parts, key) pairs of image files into split -> class -> keys.

    ``folders`` are the relative folder paths (so that empty class folders are seen)."""
    # a single top folder that is neither a split nor holds images directly (cifar10/...) is skipped
    while True:
        tops = {parts[0] for parts in folders if parts} | {parts[0] for parts, _ in entries}
        if len(tops) != 1 or any(len(parts) == 1 for parts, _ in entries):
            break
        (top,) = tops
        if top.lower() in SPLIT_NAMES or not any(len(p) >= 3 for p, _ in entries):
            break
        entries = [(parts[1:], key) for parts, key in entries]
        folders = {parts[1:] for parts in folders if len(parts) > 1}
    top_names = {parts[0] for parts in folders if parts} | {parts[0] for parts, _ in entries}
    split_layout = any(name.lower() in SPLIT_NAMES for name in top_names)
    depth = 2 if split_layout else 1
    splits: dict[str, dict[str, list[str]]] = {}
    for parts in sorted(folders):
        if len(parts) == depth:
            split = SPLIT_NAMES.get(parts[0].lower(), parts[0]) if split_layout else "all"
            splits.setdefault(split, {}).setdefault(parts[-1], [])
    for parts, key in entries:
        if len(parts) != depth + 1:
            raise AdvisorError(
                f"image {'/'.join(parts)} in {source} is not at <split>/<class>/<file> or "
                f"<class>/<file>; arrange the data set as root/<split>/<class>/*.jpg"
            )
        split = SPLIT_NAMES.get(parts[0].lower(), parts[0]) if split_layout else "all"
        splits.setdefault(split, {}).setdefault(parts[-2], []).append(key)
    if split_layout:
        unknown = sorted(set(splits) - set(SPLIT_NAMES.values()))
        if unknown:
            raise AdvisorError(
                f"{source} has split folders {unknown} besides train/val/test; "
                f"remove them or rename them to train, val or test"
            )
    if not splits:
        raise AdvisorError(
            f"{source} holds no images (.jpg, .png, ...); expected root/<split>/<class>/*.jpg"
        )
    for split, classes in splits.items():
        for name, keys in classes.items():
            if not keys:
                where = f"{split}/{name}" if split_layout else name
                raise AdvisorError(
                    f"class folder {where} in {source} holds no images; add images "
                    f"or remove the folder"
                )
        keys_sorted = {name: sorted(keys) for name, keys in classes.items()}
        splits[split] = dict(sorted(keys_sorted.items()))
    return {split: splits[split] for split in ordered_splits(splits)}


def list_folder(root: Path) -> Listing:
    entries, folders = [], set()
    for path in sorted(root.rglob("*")):
        parts = path.relative_to(root).parts
        if _hidden(parts):
            continue
        _check_utf8_name(path, root)
        if path.is_dir():
            folders.add(parts)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            entries.append((parts, str(path)))
    return Listing(root, _group(entries, folders, root), lambda key: Path(key).read_bytes())


def _check_utf8_name(path: Path, root: Path) -> None:
    """Class names become labels in JSON, reports and C headers: they must be text."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise AdvisorError(
            f"the name {os.fsencode(path.relative_to(root))!r} in {root} is not valid UTF-8; "
            "rename that folder or file to UTF-8 (e.g. convmv -f latin1 -t utf8 -r --notest)"
        ) from None


def list_zip(archive: Path) -> Listing:
    try:
        handle = zipfile.ZipFile(archive)
        infos = handle.infolist()
    except (zipfile.BadZipFile, OSError) as err:
        raise AdvisorError(
            f"zip archive {archive} cannot be read ({err}); it is corrupt or not a "
            f"zip: download or create it again"
        ) from None
    entries, folders = [], set()
    for info in infos:
        parts = PurePosixPath(info.filename).parts
        if not parts or _hidden(parts):
            continue
        if info.is_dir():
            folders.add(parts)
        else:
            folders.update(parts[:i] for i in range(1, len(parts)))
            if PurePosixPath(info.filename).suffix.lower() in IMAGE_SUFFIXES:
                entries.append((parts, info.filename))
    return Listing(archive, _group(entries, folders, archive), handle.read)


def _decode(data: bytes, size: int, mode: str) -> np.ndarray:
    """(C, H, W) uint8. Square images no larger than ``size`` keep their size; others are
    resized (shorter side) and centre-cropped to ``size`` x ``size``."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image = image.convert(mode)
        if image.width != image.height or image.width > size:
            image = ImageOps.fit(image, (size, size), Image.Resampling.BILINEAR)
        array = np.asarray(image, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _upsample(images: list[np.ndarray], size: int) -> list[np.ndarray]:
    """Bring images of mixed sizes to ``size`` x ``size``."""
    import torch
    import torch.nn.functional as F

    out = []
    for image in images:
        if image.shape[1:] != (size, size):
            tensor = torch.from_numpy(image)[None].float()
            tensor = F.interpolate(tensor, size=(size, size), mode="bilinear", align_corners=False)
            image = tensor.round().clamp(0, 255).to(torch.uint8)[0].numpy()
        out.append(image)
    return out


def decode(
    listing: Listing, size: int, channels: int = 3, workers: int = 2
) -> dict[str, tuple[np.ndarray, np.ndarray, list[str]]]:
    """Decode every split to (images (N, C, H, W) uint8, labels int64, class names).

    Unreadable images are skipped: their names go to ``listing.skipped`` and the log."""
    from PIL import UnidentifiedImageError

    mode = {1: "L", 3: "RGB"}.get(channels)
    if mode is None:
        raise AdvisorError(f"images can be decoded to 1 or 3 channels, not {channels}")

    def load(key: str) -> np.ndarray | None:
        try:
            return _decode(listing.read(key), size, mode)
        except (
            UnidentifiedImageError,
            OSError,
            ValueError,
            SyntaxError,
            zipfile.BadZipFile,
        ) as err:
            log.warning("skipping unreadable image %s: %s", key, err)
            return None

    result = {}
    with ThreadPoolExecutor(max(1, workers)) as pool:
        for split, classes in listing.splits.items():
            keys = [key for names in classes.values() for key in names]
            labels = [i for i, names in enumerate(classes.values()) for _ in names]
            chunks = [keys[i : i + 512] for i in range(0, len(keys), 512)]
            decoded = [
                image
                for chunk in pool.map(lambda c: [load(k) for k in c], chunks)
                for image in chunk
            ]
            kept = [i for i, image in enumerate(decoded) if image is not None]
            listing.skipped.extend(keys[i] for i, image in enumerate(decoded) if image is None)
            images = [decoded[i] for i in kept]
            if not images:
                raise AdvisorError(f"no image of split {split!r} in {listing.source} could be read")
            if len({image.shape for image in images}) > 1:
                images = _upsample(images, size)
            kept_labels = np.asarray([labels[i] for i in kept], dtype=np.int64)
            result[split] = (np.stack(images), kept_labels, list(classes))
    if listing.skipped:
        log.warning("skipped %d unreadable images in %s", len(listing.skipped), listing.source)
    return result
