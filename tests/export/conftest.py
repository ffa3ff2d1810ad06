"""Shared, session-scoped fixtures: conversion is the slow part, so each model is built,
converted and measured once and reused by every export test."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("tensorflow")
pytest.importorskip("tflite_micro")

from advisor.config import PhiNetConfig  # noqa: E402

# Small enough to convert in about a second, large enough to have every op kind:
# stride-2 PADs, residual ADDs, squeeze-excite, h-swish, the classifier.
SMALL = PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24)


def make_phinet(config: PhiNetConfig, seed: int = 0):
    """advisor's PhiNet with random weights and non-trivial BatchNorm statistics, in eval mode."""
    from advisor.export.cost_calibration import random_phinet

    return random_phinet(config, seed)


def images(config: PhiNetConfig, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = config.resolution
    return rng.normal(0, 1, (count, config.in_channels, r, r)).astype(np.float32)


def torch_logits(model, batch: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.from_numpy(batch)).numpy()


@dataclass
class ExportedCase:
    config: PhiNetConfig
    model: object
    calibration: np.ndarray
    test_images: np.ndarray
    test_logits: np.ndarray
    int8: bytes
    arena: object  # ArenaMeasurement


@pytest.fixture(scope="session")
def exported() -> ExportedCase:
    from advisor.export.convert import to_tflite
    from advisor.export.tflm import minimal_arena

    model = make_phinet(SMALL)
    calibration = images(SMALL, 16, seed=1)
    test_images = images(SMALL, 16, seed=2)
    int8 = to_tflite(SMALL, model.state_dict(), calibration)
    return ExportedCase(
        SMALL,
        model,
        calibration,
        test_images,
        torch_logits(model, test_images),
        int8,
        minimal_arena(int8),
    )


@pytest.fixture(scope="session")
def int8_path(exported, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "phinet.tflite"
    path.write_bytes(exported.int8)
    return path


@pytest.fixture(scope="session")
def unsupported_model() -> bytes:
    """A float model with TOPK_V2, a TFLite builtin that TFLite Micro does not have."""
    from advisor.export.convert import import_tensorflow

    tf = import_tensorflow()

    @tf.function(input_signature=[tf.TensorSpec([1, 8], tf.float32)])
    def top3(x):
        return tf.math.top_k(x, 3).values

    return tf.lite.TFLiteConverter.from_concrete_functions(
        [top3.get_concrete_function()], top3
    ).convert()
