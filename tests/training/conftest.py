from pathlib import Path

import pytest
from training_helpers import write_image_folder


@pytest.fixture(scope="session")
def image_folder(tmp_path_factory) -> Path:
    """36 train and 8 test PNGs per class, 16x16. Treat as read-only."""
    return write_image_folder(
        tmp_path_factory.mktemp("images") / "shapes", {"train": 36, "test": 8}
    )


@pytest.fixture(autouse=True)
def one_torch_thread():
    """On a shared 2-core machine torch's intra-op threads spin against each other (30x slower
    measured); the tests run on one, and give the setting back."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
