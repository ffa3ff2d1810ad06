"""CIFAR-10 and CIFAR-100 in their official python format: checked download and reading."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import shutil
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from advisor.atomic import atomic_open
from advisor.errors import AdvisorError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CifarRelease:
    url: str
    md5: str  # the checksum published with the archive on the CIFAR page
    folder: str  # what the archive extracts to
    train_files: tuple[str, ...]
    test_files: tuple[str, ...]
    meta_file: str
    names_key: bytes
    labels_key: bytes

    @property
    def archive(self) -> str:
        return self.url.rsplit("/", 1)[1]


RELEASES = {
    "cifar10": CifarRelease(
        url="https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        md5="c58f30108f718f92721af3b95e74349a",
        folder="cifar-10-batches-py",
        train_files=tuple(f"data_batch_{i}" for i in range(1, 6)),
        test_files=("test_batch",),
        meta_file="batches.meta",
        names_key=b"label_names",
        labels_key=b"labels",
    ),
    "cifar100": CifarRelease(
        url="https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
        md5="eb9058c3a382ffc7106e4002c42a8d85",
        folder="cifar-100-python",
        train_files=("train",),
        test_files=("test",),
        meta_file="meta",
        names_key=b"fine_label_names",
        labels_key=b"fine_labels",
    ),
}


def file_md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, destination: Path, md5: str) -> Path:
    """Fetch ``url`` to ``destination`` through a temporary file, and keep it only if its MD5
    is ``md5``."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    log.info("downloading %s to %s", url, destination)
    try:
        with (
            atomic_open(destination, "wb") as out,
            urllib.request.urlopen(url, timeout=60) as response,
        ):
            shutil.copyfileobj(response, out, 1 << 20)
            out.flush()
            actual = file_md5(Path(out.name))
            if actual != md5:
                raise AdvisorError(
                    f"download of {url} has MD5 {actual}, expected {md5}: the transfer "
                    f"was corrupted or the file changed; retry, or place a good copy at "
                    f"{destination}"
                )
    except OSError as err:
        raise AdvisorError(
            f"could not download {url}: {err}; check the network, or download it "
            f"by hand into {destination.parent} and pass --data-dir"
        ) from None
    return destination


def extract(archive: Path, release: CifarRelease, data_dir: Path) -> Path:
    """Unpack into a temporary folder and move the result into place in one rename, so that an
    interrupted extraction never leaves a half-filled ``release.folder``."""
    target = data_dir / release.folder
    staging = Path(tempfile.mkdtemp(dir=data_dir, prefix=f".{release.folder}."))
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data")
        os.replace(staging / release.folder, target)
    except (tarfile.TarError, EOFError, OSError) as err:
        raise AdvisorError(
            f"archive {archive} is corrupt or incomplete ({err}); delete it and download it again"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def locate(name: str, data_dir: Path, allow_download: bool = True, url: str | None = None) -> Path:
    """The extracted folder of ``name`` under ``data_dir``: already there, else extracted from a
    checked archive there, else downloaded (from ``url``, default the official one)."""
    release = RELEASES[name]
    folder = data_dir / release.folder
    if folder.is_dir():
        return folder
    archive = data_dir / release.archive
    if not archive.is_file():
        if not allow_download:
            raise AdvisorError(
                f"{name} is not in {data_dir} (neither {release.folder}/ nor "
                f"{release.archive}); allow the download or pass --data-dir with "
                f"a copy"
            )
        download(url or release.url, archive, release.md5)
    else:
        actual = file_md5(archive)
        if actual != release.md5:
            raise AdvisorError(
                f"archive {archive} has MD5 {actual}, expected {release.md5}: it is "
                f"corrupt or a different file; delete it and download it again"
            )
    return extract(archive, release, data_dir)


def _latin1_encode(text: str, encoding: str = "latin1") -> bytes:
    """What pickles of bytes written by Python 3 at protocol < 3 call (``_codecs.encode``)."""
    if encoding not in ("latin1", "latin-1") or not isinstance(text, str):
        raise pickle.UnpicklingError(f"_codecs.encode with {encoding!r} is not a CIFAR batch's")
    return text.encode("latin1")


def _numpy_globals() -> dict[tuple[str, str], object]:
    """The only callables a CIFAR batch's pickle may name: numpy array reconstruction."""
    try:
        from numpy._core import multiarray, numeric  # numpy >= 2
    except ImportError:  # numpy 1.x
        from numpy.core import multiarray, numeric
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): _latin1_encode,
    }
    for package in ("numpy.core", "numpy._core"):
        allowed[(f"{package}.multiarray", "_reconstruct")] = multiarray._reconstruct
        allowed[(f"{package}.multiarray", "scalar")] = multiarray.scalar
        allowed[(f"{package}.numeric", "_frombuffer")] = numeric._frombuffer
    return allowed


class _BatchUnpickler(pickle.Unpickler):
    """Loads a CIFAR pickle without running code: any global other than numpy's array
    reconstruction is refused (a planted file cannot execute anything)."""

    def find_class(self, module: str, name: str) -> object:
        allowed = _numpy_globals().get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f"it names {module}.{name}, which a CIFAR batch never holds (refused: "
                "loading it could run code)"
            )
        return allowed


def load_pickle(path: Path) -> object:
    """A CIFAR python-format file (dicts of bytes, lists and numpy arrays), loaded safely."""
    with open(path, "rb") as handle:
        return _BatchUnpickler(handle, encoding="bytes").load()


def _read_batch(path: Path, release: CifarRelease) -> tuple[np.ndarray, np.ndarray]:
    try:
        batch = load_pickle(path)
        images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        labels = np.asarray(batch[release.labels_key], dtype=np.int64)
    except FileNotFoundError:
        raise AdvisorError(
            f"CIFAR file {path} is missing; delete {path.parent} and extract the archive again"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        KeyError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
    ) as err:
        raise AdvisorError(
            f"CIFAR file {path} is corrupt ({err!r}); delete {path.parent} and "
            f"extract the archive again"
        ) from None
    if len(images) != len(labels):
        raise AdvisorError(f"CIFAR file {path} holds {len(images)} images but {len(labels)} labels")
    return images, labels


def read(name: str, folder: Path) -> dict[str, object]:
    """Images (N, 3, 32, 32) uint8 and labels of the train and test sets, and the class names."""
    release = RELEASES[name]
    meta_path = folder / release.meta_file
    try:
        classes = [n.decode() for n in load_pickle(meta_path)[release.names_key]]
    except FileNotFoundError:
        raise AdvisorError(
            f"CIFAR file {meta_path} is missing; delete {folder} and extract the archive again"
        ) from None
    except (
        pickle.UnpicklingError,
        EOFError,
        KeyError,
        AttributeError,
        TypeError,
        ValueError,
        UnicodeDecodeError,
    ) as err:
        raise AdvisorError(
            f"CIFAR file {meta_path} is corrupt ({err!r}); delete {folder} and "
            f"extract the archive again"
        ) from None
    pools = {}
    for split, files in (("train", release.train_files), ("test", release.test_files)):
        parts = [_read_batch(folder / f, release) for f in files]
        pools[split] = (
            np.concatenate([images for images, _ in parts]),
            np.concatenate([labels for _, labels in parts]),
        )
    return {"classes": classes, "pools": pools}
