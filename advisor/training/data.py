"""Data sets as uint8 tensors in memory: CIFAR-10/100 or an image folder / zip, decoded once
(and cached), split into train / validation / test."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from advisor.cache import user_cache_dir
from advisor.errors import AdvisorError
from advisor.training import cifar, imagefolder
from advisor.training.recipe import SPLITS

log = logging.getLogger(__name__)

CACHE_FORMAT = 1  # bump when the decoded arrays would change for the same source


@dataclass
class DataSplits:
    """Train / validation / test images (N, C, H, W) uint8 and int64 labels, on the CPU.

    Images are stored at ``stored_size`` (a small data set such as CIFAR keeps its native 32x32)
    and resampled to ``resolution`` batch by batch on the training device. ``mean`` and ``std``
    (per channel, on the 0..1 scale) come from the training images and define the network's
    input normalisation."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    classes: list[str]
    resolution: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    source: str
    fingerprint: str
    split: str
    seed: int
    skipped: list[str] = field(default_factory=list)
    decode_seconds: float = 0.0
    from_cache: bool = False

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def stored_size(self) -> int:
        return int(self.train_images.shape[-1])

    @property
    def channels(self) -> int:
        return int(self.train_images.shape[1])

    def describe(self) -> dict[str, Any]:
        """What identifies this data in a run directory (data.json)."""
        return {
            "source": self.source,
            "fingerprint": self.fingerprint,
            "split": self.split,
            "seed": self.seed,
            "classes": self.classes,
            "resolution": self.resolution,
            "stored_size": self.stored_size,
            "channels": self.channels,
            "sizes": {
                "train": len(self.train_labels),
                "val": len(self.val_labels),
                "test": len(self.test_labels),
            },
            "mean": list(self.mean),
            "std": list(self.std),
            "skipped_images": len(self.skipped),
            "decode_seconds": round(self.decode_seconds, 3),
            "from_cache": self.from_cache,
        }


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Indices of ``labels`` cut into len(fractions) parts, each class in the given proportions.

    Parts after the first get round(fraction * class size) images of each class; the first
    gets the rest. Seeded, and each part is returned sorted."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        start = len(members) - sum(round(f * len(members)) for f in fractions[1:])
        parts[0].append(members[:start])
        for i, fraction in enumerate(fractions[1:], start=1):
            stop = start + round(fraction * len(members))
            parts[i].append(members[start:stop])
            start = stop
    return [np.sort(np.concatenate(p)) if p else np.zeros(0, dtype=np.int64) for p in parts]


def stratified_draw(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """``count`` indices of ``labels``, the same number from every class (``count`` //
    classes, one more from each of the first ``count`` % classes; a class with fewer images
    gives all of them), drawn with ``seed`` and sorted: the same draw in any process for the
    same labels, count and seed. ``count`` >= len(labels) gives every index."""
    labels = np.asarray(labels)
    if count >= len(labels):
        return np.arange(len(labels))
    classes = np.unique(labels)
    if count < len(classes):
        raise AdvisorError(
            f"a stratified draw of {count} images cannot cover {len(classes)} classes; "
            f"ask for at least {len(classes)}"
        )
    rng = np.random.default_rng(seed)
    quota = count // len(classes)
    picks = [
        rng.permutation(np.flatnonzero(labels == label))[: quota + (i < count % len(classes))]
        for i, label in enumerate(classes)
    ]
    return np.sort(np.concatenate(picks))


def _fingerprint(kind: str, path: Path | None, size: int, channels: int) -> str:
    """A hash of what the decoded arrays depend on: the source's files (path, size, mtime)."""
    digest = hashlib.sha256(json.dumps([CACHE_FORMAT, kind, size, channels]).encode())
    if path is not None:
        path = path.resolve()
        digest.update(os.fsencode(path))  # the name's bytes: not every file name is UTF-8
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            stat = file.stat()
            digest.update(os.fsencode(file) + f"\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:20]


def _load_cache(folder: Path) -> tuple[dict, list[str]] | None:
    try:
        meta = json.loads((folder / "meta.json").read_text())
        pools = {
            split: (
                np.load(folder / f"{split}_images.npy"),
                np.load(folder / f"{split}_labels.npy"),
                meta["classes"][split],
            )
            for split in meta["splits"]
        }
    except (OSError, ValueError, KeyError) as err:
        if folder.exists():
            log.warning("ignoring unreadable decode cache %s: %s", folder, err)
        return None
    return pools, meta["skipped"]


def _save_cache(folder: Path, pools: dict, skipped: list[str]) -> None:
    """Write into a temporary folder, then rename it into place (readers never see half)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}."))
    try:
        for split, (images, labels, _) in pools.items():
            np.save(staging / f"{split}_images.npy", images)
            np.save(staging / f"{split}_labels.npy", labels)
        meta = {
            "splits": list(pools),
            "classes": {s: p[2] for s, p in pools.items()},
            "skipped": skipped,
        }
        (staging / "meta.json").write_text(json.dumps(meta))
        os.replace(staging, folder)
    except OSError as err:
        log.warning("could not write the decode cache %s: %s", folder, err)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check_classes(pools: dict, source: str) -> list[str]:
    classes = {split: list(p[2]) for split, p in pools.items()}
    reference = next(iter(classes.values()))
    if all(c == reference for c in classes.values()):
        return reference
    union = sorted(set().union(*classes.values()))
    missing = {
        split: sorted(set(union) - set(c)) for split, c in classes.items() if set(c) != set(union)
    }
    raise AdvisorError(
        f"classes differ between the splits of {source}: "
        + "; ".join(f"{s} lacks {m}" for s, m in missing.items())
        + " — every split needs the same class folders"
    )


MIN_CLASSES = 2


def _check_class_count(classes: list[str], source: str) -> None:
    if len(classes) < MIN_CLASSES:
        raise AdvisorError(
            f"{source} has {len(classes)} class ({', '.join(map(repr, classes))}); a classifier "
            f"needs at least {MIN_CLASSES} (with one, every prediction is right and the accuracy "
            "means nothing): add a class folder, root/<split>/<class>/*.jpg"
        )


def check_source(source: str | Path) -> None:
    """Refuse, without decoding an image, a data source that cannot be trained on: a missing
    path, an unreadable listing, fewer than two classes (CIFAR is checked when read)."""
    if str(source).lower() in cifar.RELEASES:
        return
    path = Path(source).expanduser()
    if not path.exists():
        raise AdvisorError(
            f"data source {path} does not exist; pass cifar10, cifar100, an image "
            f"folder (root/<split>/<class>/*.jpg) or a .zip of one"
        )
    listing = imagefolder.list_folder(path) if path.is_dir() else imagefolder.list_zip(path)
    names = sorted({name for classes in listing.splits.values() for name in classes})
    _check_class_count(names, str(path))


def _normalization(
    images: torch.Tensor, most: int = 8192
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Per-channel mean and std on the 0..1 scale of up to ``most`` evenly spaced images, from a
    histogram of the 256 levels. (On CIFAR-10 the whole training set moves them by < 1e-3 and
    costs seconds more.)"""
    sample = images[:: max(1, -(-len(images) // most))].numpy()
    levels = np.arange(256, dtype=np.float64) / 255
    means, stds = [], []
    for channel in range(images.shape[1]):
        counts = np.bincount(sample[:, channel].reshape(-1), minlength=256)
        mean = float(counts @ levels / counts.sum())
        variance = float(counts @ (levels - mean) ** 2 / counts.sum())
        means.append(round(mean, 6))
        stds.append(round(max(variance**0.5, 1e-3), 6))
    return tuple(means), tuple(stds)


def _read_pools(
    source: str | Path,
    resolution: int,
    channels: int,
    cache_dir: Path | None,
    data_dir: Path | None,
    download: bool,
    num_workers: int,
):
    """Decoded pools {split: (images, labels, classes)}, skipped names, fingerprint, label,
    whether they came from the cache."""
    name = str(source).lower()
    if name in cifar.RELEASES:
        if channels != 3:
            raise AdvisorError(f"{name} has 3 channels; the config asks for {channels}")
        folder = cifar.locate(
            name,
            Path(data_dir) if data_dir else user_cache_dir() / "cifar",
            allow_download=download,
        )
        content = cifar.read(name, folder)
        pools = {s: (x, y, content["classes"]) for s, (x, y) in content["pools"].items()}
        return pools, [], _fingerprint(name, folder, 32, 3), name, False
    path = Path(source).expanduser()
    if not path.exists():
        raise AdvisorError(
            f"data source {path} does not exist; pass cifar10, cifar100, an image "
            f"folder (root/<split>/<class>/*.jpg) or a .zip of one"
        )
    if not (path.is_dir() or path.suffix.lower() == ".zip" or path.is_file()):
        raise AdvisorError(f"data source {path} is neither a folder nor a .zip archive")
    if path.is_file() and path.suffix.lower() != ".zip":
        raise AdvisorError(
            f"data source {path} is a file but not a .zip archive; pass a folder "
            f"or a .zip of root/<split>/<class>/*.jpg"
        )
    fingerprint = _fingerprint("folder" if path.is_dir() else "zip", path, resolution, channels)
    cache = Path(cache_dir) / "decoded" / fingerprint if cache_dir else None
    if cache is not None:
        cached = _load_cache(cache)
        if cached is not None:
            return cached[0], cached[1], fingerprint, str(path.resolve()), True
    listing = imagefolder.list_folder(path) if path.is_dir() else imagefolder.list_zip(path)
    pools = imagefolder.decode(listing, resolution, channels, num_workers)
    if cache is not None:
        _save_cache(cache, pools, listing.skipped)
    return pools, listing.skipped, fingerprint, str(path.resolve()), False


def load_dataset(
    source: str | Path,
    resolution: int,
    split: str = "70/15/15",
    seed: int = 0,
    cache_dir: str | Path | None = None,
    *,
    val_fraction: float = 0.1,
    data_dir: str | Path | None = None,
    download: bool = True,
    channels: int = 3,
    num_workers: int = 2,
) -> DataSplits:
    """Load ``source`` and split it.

    source: "cifar10" or "cifar100" (read from ``data_dir``, default <cache>/cifar, downloaded
    there with checksum verification when absent and ``download``), an image folder, or a .zip
    of one (``root/<split>/<class>/*.jpg|png``; a single top folder such as ``cifar10/`` is
    detected; without split folders, ``root/<class>/...`` is one pool).
    split: "70/15/15" pools everything and cuts train/val/test per class; "test+val" keeps the
    data set's own test split and takes a stratified ``val_fraction`` of train for validation
    (or the data set's own val split, when it has one).
    cache_dir: where decoded image folders are kept as .npy, keyed by a hash of the source's
    files, so later runs skip decoding (None: no cache).
    """
    if split not in SPLITS:
        raise AdvisorError(f"unknown split {split!r}; choose one of {SPLITS}")
    started = time.perf_counter()
    pools, skipped, fingerprint, label, from_cache = _read_pools(
        source,
        resolution,
        channels,
        Path(cache_dir) if cache_dir else None,
        Path(data_dir) if data_dir else None,
        download,
        num_workers,
    )
    classes = _check_classes(pools, label)
    _check_class_count(classes, label)
    if split == "test+val":
        if "train" not in pools or "test" not in pools:
            raise AdvisorError(
                f"{label} has no train and test split folders (found "
                f"{sorted(pools)}); use split 70/15/15"
            )
        train_x, train_y = pools["train"][:2]
        if "val" in pools:
            val_x, val_y = pools["val"][:2]
        else:
            keep, held = stratified_split(train_y, (1 - val_fraction, val_fraction), seed)
            train_x, train_y, val_x, val_y = (
                train_x[keep],
                train_y[keep],
                train_x[held],
                train_y[held],
            )
        test_x, test_y = pools["test"][:2]
    else:
        # pooled in a fixed split order, so the seeded split is the same in every process
        ordered = [pools[name] for name in imagefolder.ordered_splits(pools)]
        everything_x = np.concatenate([p[0] for p in ordered])
        everything_y = np.concatenate([p[1] for p in ordered])
        parts = stratified_split(everything_y, (0.70, 0.15, 0.15), seed)
        (train_x, val_x, test_x), (train_y, val_y, test_y) = (
            [everything_x[p] for p in parts],
            [everything_y[p] for p in parts],
        )
    for name, labels in (("training", train_y), ("validation", val_y), ("test", test_y)):
        if len(labels) == 0:
            raise AdvisorError(
                f"{label} leaves no {name} images under split {split}; "
                f"add images or change the split"
            )

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(np.ascontiguousarray(array))

    train_images = tensor(train_x)
    mean, std = _normalization(train_images)
    data = DataSplits(
        train_images=train_images,
        train_labels=tensor(train_y),
        val_images=tensor(val_x),
        val_labels=tensor(val_y),
        test_images=tensor(test_x),
        test_labels=tensor(test_y),
        classes=list(classes),
        resolution=resolution,
        mean=mean,
        std=std,
        source=label,
        fingerprint=fingerprint,
        split=split,
        seed=seed,
        skipped=list(skipped),
        decode_seconds=time.perf_counter() - started,
        from_cache=from_cache,
    )
    log.info(
        "loaded %s: %d train, %d val, %d test images, %d classes, %d skipped (%.1f s%s)",
        label,
        len(train_y),
        len(val_y),
        len(test_y),
        len(classes),
        len(skipped),
        data.decode_seconds,
        ", from cache" if from_cache else "",
    )
    return data
