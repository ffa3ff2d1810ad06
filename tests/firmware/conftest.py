"""A small int8 PhiNet exported with the project's own path, its firmware bundle, and the
tools the emulated runs need (tests skip with the reason when one is missing)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from advisor.config import PhiNetConfig

# Every op kind a PhiNet has (stride-2 PAD, residual ADD, squeeze-excite MUL/LOGISTIC,
# h-swish, MEAN, the classifier), small enough to convert in seconds and run in QEMU in
# well under a second per image.
SMALL = PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24)


@dataclass
class SmallModel:
    int8: bytes
    host_arena_bytes: int
    bundle: Path
    inputs: np.ndarray  # int8 NHWC


@pytest.fixture(scope="session")
def small_model(tmp_path_factory) -> SmallModel:
    pytest.importorskip("torch")
    pytest.importorskip("tensorflow")
    pytest.importorskip("tflite_micro")
    from advisor.export.convert import to_nhwc, to_tflite
    from advisor.export.cost_calibration import random_phinet
    from advisor.export.firmware import write_firmware
    from advisor.export.tflite_file import read_tflite
    from advisor.export.tflm import minimal_arena
    from advisor.export.verify import quantize

    rng = np.random.default_rng(0)
    shape = (SMALL.in_channels, SMALL.resolution, SMALL.resolution)
    calibration = rng.normal(0, 1, (16, *shape)).astype(np.float32)
    test_images = rng.normal(0, 1, (6, *shape)).astype(np.float32)
    int8 = to_tflite(SMALL, random_phinet(SMALL, 0).state_dict(), calibration)
    arena = minimal_arena(int8)
    folder = tmp_path_factory.mktemp("firmware")
    write_firmware(folder, int8, arena)
    inputs = quantize(to_nhwc(test_images), read_tflite(int8).inputs[0])
    return SmallModel(int8, arena.arena_bytes, folder, inputs)


@pytest.fixture(scope="session")
def tools():
    """The cross toolchain and the TFLite Micro tree, or a skip naming what is missing."""
    from advisor.firmware.toolchain import ToolsMissing, find_toolchain
    from advisor.firmware.tree import find_tree

    try:
        return find_toolchain(), find_tree()
    except ToolsMissing as missing:
        pytest.skip(f"emulated firmware needs: {missing}")
