import json

import pytest
from sweep_tiny import TINY_CONFIGS, write_image_folder


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory, train_extra):
    """Images to train on: the tests that train request it, and skip without the `train`
    extra; the grid, store and prior tests need neither."""
    return write_image_folder(tmp_path_factory.mktemp("tiny-images") / "tiny")


@pytest.fixture
def grid_file(tmp_path):
    def write(configs=TINY_CONFIGS, name="grid.json"):
        path = tmp_path / name
        path.write_text(json.dumps({"configs": configs}))
        return path

    return write
