"""`advisor.build` as a library: its stages on their own, and `build` end to end on a tiny
generated image folder and a tiny PhiNet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic_images import write_colour_folder

from advisor.boards import load_board
from advisor.build import adapt_config, build, pick_images, preprocess, recommend_config
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError, NothingFits
from advisor.export.firmware import read_array
from advisor.solver import recommend
from advisor.training.augment import channel_stats, to_input
from advisor.training.data import load_dataset

TINY = PhiNetConfig(alpha=0.25, beta=1.0, t0=3, num_layers=4, resolution=16)


@pytest.fixture(scope="module")
def splits(tmp_path_factory):
    root = tmp_path_factory.mktemp("build-library")
    data = write_colour_folder(root / "colours", {"train": 24, "test": 8})
    return load_dataset(data, 16, "test+val", 0, cache_dir=root / "cache")


def test_recommend_stage_is_the_solvers_recommendation():
    board = load_board("stm32h7")
    chosen = recommend_config(board, 32, 3, 10)
    assert chosen.config == recommend(board, resolution=32).config
    with pytest.raises(NothingFits, match="no PhiNet fits arduino-uno"):
        recommend_config(load_board("arduino-uno"), 160, 3, 10)


def test_a_given_config_follows_the_resolution_and_the_data():
    assert adapt_config(TINY, 16, 10) == (TINY, [])
    adapted, warnings = adapt_config(TINY, 24, 3)
    assert (adapted.resolution, adapted.num_classes) == (24, 3)
    assert adapted.alpha == TINY.alpha and "{'resolution': 24, 'num_classes': 3}" in warnings[0]


def test_preprocess_is_the_training_input_in_any_batch_size(splits):
    images = splits.train_images[:300].repeat(5, 1, 1, 1)[:300]  # more than one batch
    inputs = preprocess(images, splits.mean, splits.std, 24)
    scale, shift = channel_stats(splits.mean, splits.std, "cpu")
    expected = to_input(images, scale, shift, 24).numpy()
    assert inputs.shape == (300, 3, 24, 24) and inputs.dtype == np.float32
    np.testing.assert_allclose(inputs, expected, rtol=0, atol=1e-6)


def test_image_picks_are_seeded_and_bounded(splits):
    calibration, test = pick_images(splits, 10, 0, seed=3)
    again = pick_images(splits, 10, 0, seed=3)
    assert np.array_equal(calibration, again[0]) and np.array_equal(test, again[1])
    assert len(set(calibration.tolist())) == 10
    assert test.tolist() == list(range(len(splits.test_labels)))  # 0: every test image
    calibration, test = pick_images(splits, 10_000, 5, seed=3)
    assert len(calibration) == len(splits.train_labels) and len(test) == 5
    assert not np.array_equal(
        pick_images(splits, 10, 5, seed=4)[0], pick_images(splits, 10, 5, seed=3)[0]
    )


@pytest.mark.slow  # trains, converts and verifies a model (about 14 s)
def test_build_returns_a_report_of_a_verified_model(splits, tmp_path):
    out = tmp_path / "build"
    report = build(
        load_board("stm32h7"),
        splits,
        out,
        config=TINY,
        epochs=2,
        split="test+val",
        calibration_images=16,
        verify_images=0,
        progress=False,
    )
    assert report.fits is True and report.reasons() == []
    assert report.config.num_classes == 3 and report.config.resolution == 16
    assert any("num_classes" in warning for warning in report.warnings)
    assert report.training.recipe.epochs == 2 and report.training.recipe.warmup_epochs == 0
    files = report.files
    assert {"tflite", "onnx", "firmware", "checkpoint", "report_json", "report_md"} <= set(files)
    assert all(path.exists() for path in files.values())
    saved = json.loads(files["report_json"].read_text())
    assert saved == json.loads(json.dumps(report.to_dict()))
    assert saved["export"]["model_bytes"]["value"] == files["tflite"].stat().st_size
    assert read_array(files["firmware"] / "model_data.cc") == files["tflite"].read_bytes()
    assert saved["export"]["verification"]["samples"] == len(splits.test_labels)
    assert saved["cost_model"]["params"] == report.cost.params > 0


def test_build_refuses_bad_image_counts_before_training(splits, tmp_path):
    board = load_board("stm32h7")
    with pytest.raises(AdvisorError, match="calibration_images must be at least 1"):
        build(board, splits, tmp_path, config=TINY, calibration_images=0)
    with pytest.raises(AdvisorError, match="verify_images must be at least 0"):
        build(board, splits, tmp_path, config=TINY, verify_images=-1)
    assert not any(tmp_path.iterdir())
