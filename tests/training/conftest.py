"""The training tests need the `train` extra (torch, Pillow): on a base install they skip."""

from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the training tests need the 'train' extra")
pytest.importorskip("PIL", reason="the image-folder tests need the 'train' extra (Pillow)")

from synthetic_images import write_colour_folder


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """36 train and 8 test PNGs per class (red, green, blue), 16x16. Treat as read-only."""
    return write_colour_folder(
        tmp_path_factory.mktemp("images") / "colours", {"train": 36, "test": 8}
    )
