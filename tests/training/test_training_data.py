import logging
import os
import pickle
import shutil
import tarfile

import numpy as np
import pytest
import torch
from synthetic_images import CHANNEL_OF_COLOUR, write_colour_folder, zip_folder

from advisor.errors import AdvisorError
from advisor.training import cifar
from advisor.training.data import load_dataset, stratified_split


def test_a_folder_and_its_zip_with_a_top_folder_load_the_same(image_folder, tmp_path):
    archive = zip_folder(image_folder, tmp_path / "shapes.zip", top="shapes")
    from_folder = load_dataset(image_folder, 16, split="test+val", seed=3, val_fraction=0.25)
    from_zip = load_dataset(archive, 16, split="test+val", seed=3, val_fraction=0.25)
    assert from_folder.classes == from_zip.classes == sorted(CHANNEL_OF_COLOUR)
    for name in (
        "train_images",
        "train_labels",
        "val_images",
        "val_labels",
        "test_images",
        "test_labels",
    ):
        assert torch.equal(getattr(from_folder, name), getattr(from_zip, name)), name
    assert from_folder.train_images.dtype == torch.uint8
    assert tuple(from_folder.train_images.shape[1:]) == (3, 16, 16)
    # the data set's own test split; a stratified quarter of train for validation
    assert len(from_folder.test_labels) == 3 * 8
    assert torch.bincount(from_folder.val_labels).tolist() == [9, 9, 9]
    assert torch.bincount(from_folder.train_labels).tolist() == [27, 27, 27]


def test_the_study_split_is_70_15_15_per_class_and_seeded(image_folder):
    data = load_dataset(image_folder, 16, split="70/15/15", seed=0)
    per_class = 36 + 8
    assert torch.bincount(data.val_labels).tolist() == [round(0.15 * per_class)] * 3
    assert torch.bincount(data.test_labels).tolist() == [round(0.15 * per_class)] * 3
    assert len(data.train_labels) + len(data.val_labels) + len(data.test_labels) == 3 * per_class
    again = load_dataset(image_folder, 16, split="70/15/15", seed=0)
    other = load_dataset(image_folder, 16, split="70/15/15", seed=1)
    assert torch.equal(again.val_images, data.val_images)
    assert not torch.equal(other.val_images, data.val_images)


def test_stratified_split_keeps_class_proportions_and_partitions():
    labels = np.repeat(np.arange(4), [100, 40, 20, 60])
    parts = stratified_split(labels, (0.7, 0.15, 0.15), seed=5)
    assert sorted(np.concatenate(parts).tolist()) == list(range(len(labels)))
    for label, size in enumerate([100, 40, 20, 60]):
        assert (labels[parts[1]] == label).sum() == round(0.15 * size)


def test_images_larger_than_the_resolution_are_resized_and_smaller_ones_kept(tmp_path):
    root = write_colour_folder(tmp_path / "big", {"train": 3, "test": 2}, size=40)
    assert load_dataset(root, 24, split="test+val", val_fraction=0.34).stored_size == 24
    assert load_dataset(root, 64, split="test+val", val_fraction=0.34).stored_size == 40


def test_decoded_arrays_are_cached_by_a_hash_of_the_source(image_folder, tmp_path):
    cache = tmp_path / "cache"
    first = load_dataset(image_folder, 16, split="test+val", cache_dir=cache)
    second = load_dataset(image_folder, 16, split="test+val", cache_dir=cache)
    assert not first.from_cache and second.from_cache
    assert torch.equal(first.train_images, second.train_images)
    assert first.fingerprint == second.fingerprint
    copy = shutil.copytree(image_folder, tmp_path / "copy")
    (copy / "train" / "red" / "000.png").unlink()
    changed = load_dataset(copy, 16, split="test+val", cache_dir=cache)
    assert not changed.from_cache and changed.fingerprint != first.fingerprint


def test_an_unreadable_image_is_skipped_counted_and_logged(tmp_path, caplog):
    root = write_colour_folder(tmp_path / "d", {"train": 6, "test": 3})
    (root / "train" / "green" / "broken.png").write_bytes(b"not an image at all")
    with caplog.at_level(logging.WARNING):
        data = load_dataset(root, 16, split="test+val", val_fraction=0.34)
    assert len(data.skipped) == 1 and data.skipped[0].endswith("broken.png")
    assert len(data.train_labels) + len(data.val_labels) == 3 * 6
    assert data.describe()["skipped_images"] == 1
    assert "broken.png" in caplog.text


def test_a_corrupt_zip_names_the_file(tmp_path):
    archive = tmp_path / "data.zip"
    archive.write_bytes(b"PK\x03\x04 truncated garbage")
    with pytest.raises(AdvisorError, match="data.zip"):
        load_dataset(archive, 16)


def test_a_missing_source_names_the_path(tmp_path):
    with pytest.raises(AdvisorError, match="nowhere.*does not exist"):
        load_dataset(tmp_path / "nowhere", 16)


def test_an_empty_class_folder_is_named(tmp_path):
    root = write_colour_folder(tmp_path / "d", {"train": 4, "test": 2})
    (root / "train" / "zebra").mkdir()
    (root / "test" / "zebra").mkdir()
    with pytest.raises(AdvisorError, match="zebra.*holds no images"):
        load_dataset(root, 16, split="test+val")


def test_classes_that_differ_between_splits_are_an_error(tmp_path):
    root = write_colour_folder(tmp_path / "d", {"train": 4, "test": 2})
    shutil.rmtree(root / "test" / "blue")
    with pytest.raises(AdvisorError, match="test lacks \\['blue'\\]"):
        load_dataset(root, 16, split="test+val")


def test_test_plus_val_needs_a_test_split(tmp_path):
    root = write_colour_folder(tmp_path / "d", {"train": 4})
    with pytest.raises(AdvisorError, match="use split 70/15/15"):
        load_dataset(root, 16, split="test+val")


def _write_cifar10_folder(folder, per_batch=6):
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True)
    names = [f"class{i}".encode() for i in range(10)]
    with open(folder / "batches.meta", "wb") as out:
        pickle.dump({b"label_names": names}, out)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (per_batch * 10, 3072), dtype=np.uint8),
            b"labels": [i % 10 for i in range(per_batch * 10)],
        }
        with open(folder / name, "wb") as out:
            pickle.dump(batch, out)


def test_cifar10_in_the_python_format_is_read_from_data_dir(tmp_path):
    _write_cifar10_folder(tmp_path / "cifar-10-batches-py")
    data = load_dataset("cifar10", 32, split="test+val", data_dir=tmp_path, download=False)
    assert data.classes == [f"class{i}" for i in range(10)]
    assert len(data.test_labels) == 60 and len(data.train_labels) + len(data.val_labels) == 300
    with open(tmp_path / "cifar-10-batches-py" / "test_batch", "rb") as handle:
        raw = pickle.load(handle)
    assert torch.equal(data.test_images[0].reshape(-1), torch.from_numpy(raw[b"data"][0]))


def test_cifar_absent_without_download_says_how_to_fix(tmp_path):
    with pytest.raises(AdvisorError, match="cifar-100-python.*--data-dir"):
        load_dataset("cifar100", 32, data_dir=tmp_path, download=False)


def test_download_checks_the_md5_and_keeps_nothing_on_a_mismatch(tmp_path):
    source = tmp_path / "served.tar.gz"
    source.write_bytes(b"archive bytes")
    good = cifar.file_md5(source)
    target = tmp_path / "dl" / "cifar-10-python.tar.gz"
    cifar.download(source.as_uri(), target, good)
    assert target.read_bytes() == b"archive bytes"
    target.unlink()
    with pytest.raises(AdvisorError, match="MD5"):
        cifar.download(source.as_uri(), target, "0" * 32)
    assert not target.exists() and os.listdir(target.parent) == []


def test_a_corrupt_cifar_archive_is_named(tmp_path):
    (tmp_path / "cifar-10-python.tar.gz").write_bytes(b"broken")
    with pytest.raises(AdvisorError, match="cifar-10-python.tar.gz has MD5"):
        load_dataset("cifar10", 32, data_dir=tmp_path, download=False)


def test_extraction_is_atomic_and_reads_back(tmp_path):
    staged = tmp_path / "staged"
    _write_cifar10_folder(staged / "cifar-10-batches-py", per_batch=1)
    archive = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(staged / "cifar-10-batches-py", arcname="cifar-10-batches-py")
    target = tmp_path / "data"
    target.mkdir()
    folder = cifar.extract(archive, cifar.RELEASES["cifar10"], target)
    assert sorted(p.name for p in target.iterdir()) == ["cifar-10-batches-py"]  # no staging left
    assert len(cifar.read("cifar10", folder)["pools"]["test"][1]) == 10
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(archive.read_bytes()[:200])
    shutil.rmtree(folder)
    with pytest.raises(AdvisorError, match="broken.tar.gz is corrupt"):
        cifar.extract(broken, cifar.RELEASES["cifar10"], target)
    assert list(target.iterdir()) == []


class _Payload:
    """A pickle that, loaded with pickle.load, writes a marker file (code execution)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("planted", ["batches.meta", "data_batch_3"])
def test_a_planted_cifar_pickle_does_not_run_and_is_named(tmp_path, planted):
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10_folder(folder)
    marker = tmp_path / "ran"
    with open(folder / planted, "wb") as out:
        pickle.dump({b"label_names": _Payload(marker), b"data": _Payload(marker)}, out)
    with pytest.raises(AdvisorError, match=f"{planted}.*(system|refused)"):
        load_dataset("cifar10", 32, split="test+val", data_dir=tmp_path, download=False)
    assert not marker.exists()


def test_the_cifar_reader_loads_pickles_of_every_protocol(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _write_cifar10_folder(folder)
    for protocol in (2, 4, 5):
        batch = {b"data": np.arange(3072, dtype=np.uint8)[None], b"labels": [3]}
        with open(folder / "test_batch", "wb") as out:
            pickle.dump(batch, out, protocol=protocol)
        pools = cifar.read("cifar10", folder)["pools"]
        assert pools["test"][1].tolist() == [3]
        assert pools["test"][0].reshape(-1).tolist() == batch[b"data"].reshape(-1).tolist()


def test_a_data_set_of_one_class_is_refused(tmp_path):
    from advisor.training.data import check_source

    root = write_colour_folder(tmp_path / "one", {"train": 4, "test": 2}, colours=("red",))
    with pytest.raises(AdvisorError, match="1 class.*at least 2"):
        load_dataset(root, 16)
    with pytest.raises(AdvisorError, match="1 class.*at least 2"):
        check_source(root)
