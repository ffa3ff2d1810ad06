from pathlib import Path

import pytest
from probe_helpers import train_tiny, write_colour_folder


@pytest.fixture(autouse=True)
def one_torch_thread():
    """torch's intra-op threads spin against each other on the shared 2-core machine."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def colour_data(tmp_path_factory) -> Path:
    return write_colour_folder(tmp_path_factory.mktemp("probe-data") / "colours")


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory, colour_data) -> Path:
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return train_tiny(
            {"alpha": 0.25, "beta": 1.0, "t0": 4, "num_layers": 4},
            colour_data,
            tmp_path_factory.mktemp("probe-run") / "run",
        )
    finally:
        torch.set_num_threads(before)
