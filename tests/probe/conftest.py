"""The probe tests train a tiny PhiNet: they need the `train` extra and skip without it."""

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the probe tests need the 'train' extra")
pytest.importorskip("PIL", reason="the probe tests need the 'train' extra (Pillow)")

from probe_helpers import train_tiny, write_colour_folder


@pytest.fixture(scope="session")
def colour_data(tmp_path_factory) -> Path:
    return write_colour_folder(tmp_path_factory.mktemp("probe-data") / "colours")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, colour_data) -> Path:
    return train_tiny(
        {"alpha": 0.25, "beta": 1.0, "t0": 4, "num_layers": 4},
        colour_data,
        tmp_path_factory.mktemp("probe-run") / "run",
    )
