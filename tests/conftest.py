"""Shared by every test folder: pytest puts this folder on sys.path (it has no __init__.py), so
the helpers beside this file (micromind_reference, synthetic_images, import_guard) import by
name. The fixtures here are the ones every folder needs."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

try:
    from hypothesis import HealthCheck, settings
except ImportError:  # the dev extra installs it; without it (a base install) tests/fuzz skips
    settings = None

# Property-based tests (tests/fuzz): a bounded number of examples in CI, more on request.
# Select with HYPOTHESIS_PROFILE=ci|dev|long; CI=true selects ci, else dev.
if settings is not None:
    _COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True)
    settings.register_profile("ci", max_examples=15, derandomize=True, database=None, **_COMMON)
    settings.register_profile("dev", max_examples=40, **_COMMON)
    settings.register_profile("long", max_examples=500, **_COMMON)
    settings.load_profile(
        os.environ.get("HYPOTHESIS_PROFILE")
        or ("ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev")
    )


@pytest.fixture(autouse=True)
def isolated_user_folder(tmp_path, monkeypatch) -> Path:
    """Every test sees an empty user board folder ($XDG_CONFIG_HOME), never the developer's
    ~/.config; returns that (not yet created) folder."""
    config_home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    return config_home / "mcu-advisor" / "boards"


@pytest.fixture(scope="session")
def train_extra() -> None:
    """Skips a test that needs the `train` extra (torch, Pillow) where it is not installed. The
    folders that need it throughout importorskip it in their conftest instead."""
    pytest.importorskip("torch", reason="needs the 'train' extra")
    pytest.importorskip("PIL", reason="needs the 'train' extra (Pillow)")


@contextmanager
def _torch_on_one_thread() -> Iterator[None]:
    """On a shared 2-core machine torch's intra-op threads spin against each other (30x slower
    measured on the training tests): run on one, and give the setting back. torch is touched
    only when a test module has imported it (the folders that need it importorskip it), so the
    numpy-only tests never load it."""
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread_per_session() -> Iterator[None]:
    """For session fixtures that train or convert (set up before any function fixture)."""
    with _torch_on_one_thread():
        yield


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Per test as well: `advisor train` / `build` run in-process set their own thread count."""
    with _torch_on_one_thread():
        yield
