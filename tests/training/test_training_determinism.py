"""The same data and seed give the same 70/15/15 partition in every Python process, whatever
its hash seed (set and dict iteration orders of strings change with PYTHONHASHSEED)."""

import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from synthetic_images import write_colour_folder, zip_folder

pytestmark = pytest.mark.slow  # four Python processes load a folder and a zip (about 12 s)

HASH_SEEDS = ("0", "1", "2", "3")

# prints, per source and split, the sha1 of every image in the order load_dataset returns them
SPLIT_SCRIPT = """
import hashlib, json, sys
from advisor.training.data import load_dataset
def hashes(images):
    return [hashlib.sha1(image.numpy().tobytes()).hexdigest() for image in images]
out = {}
for source in sys.argv[1:]:
    data = load_dataset(source, 16, split="70/15/15", seed=7)
    out[source] = {
        "train": hashes(data.train_images),
        "val": hashes(data.val_images),
        "test": hashes(data.test_images),
    }
print(json.dumps(out))
"""


def _partitions(sources, hash_seed):
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run(
        [sys.executable, "-c", SPLIT_SCRIPT, *map(str, sources)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def _file_names(root):
    """sha1 of each decoded image -> its file, to name the partition's files."""
    names = {}
    for path in sorted(root.rglob("*.png")):
        pixels = np.asarray(Image.open(path).convert("RGB")).transpose(2, 0, 1)
        names[hashlib.sha1(np.ascontiguousarray(pixels).tobytes()).hexdigest()] = str(
            path.relative_to(root)
        )
    return names


def test_the_70_15_15_split_is_the_same_under_every_hash_seed(tmp_path):
    # train, val and test folders: the pools' order decides the seeded partition
    root = write_colour_folder(tmp_path / "d", {"train": 10, "val": 4, "test": 6})
    archive = zip_folder(root, tmp_path / "d.zip", top="d")
    names = _file_names(root)
    assert len(names) == 3 * 20  # every image is unique, so hashes identify files
    runs = {seed: _partitions((root, archive), seed) for seed in HASH_SEEDS}
    for source in (root, archive):
        files = {
            seed: {
                split: [names[h] for h in hashes] for split, hashes in parts[str(source)].items()
            }
            for seed, parts in runs.items()
        }
        reference = files[HASH_SEEDS[0]]
        assert sorted(f for split in reference.values() for f in split) == sorted(names.values())
        for seed in HASH_SEEDS[1:]:
            assert files[seed] == reference, f"{source}: PYTHONHASHSEED={seed} split differently"
