import pytest


@pytest.fixture
def user_folder(isolated_user_folder):
    """The user board folder (tests/conftest.py isolates it), created."""
    isolated_user_folder.mkdir(parents=True)
    return isolated_user_folder


_MINIMAL_PROFILE = """\
id = "{id}"
name = "Test board"
chip = "TESTCHIP"
core = "Cortex-M4F"
clock_hz = "100MHz"
flash_bytes = "1MiB"
ram_bytes = "128KB"
reserved_flash_bytes = "64KB"
reserved_ram_bytes = "8KB"
runtime = "TensorFlow Lite Micro"
engine = "tflm-cmsis-nn"
latency_ms = 50
"""


@pytest.fixture
def minimal_profile():
    """The TOML text of a valid board profile with the given id."""
    return lambda id: _MINIMAL_PROFILE.format(id=id)
