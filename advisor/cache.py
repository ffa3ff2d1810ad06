"""The user cache folder shared by every cache of the tool (decoded images, CIFAR downloads,
compiled TensorFlow Lite Micro objects)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    """$MCU_ADVISOR_CACHE, else $XDG_CACHE_HOME/mcu-advisor, else ~/.cache/mcu-advisor."""
    if os.environ.get("MCU_ADVISOR_CACHE"):
        return Path(os.environ["MCU_ADVISOR_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "mcu-advisor"
