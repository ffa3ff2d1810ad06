"""Atomic file writes: a crash or an error leaves either the old file or the new one, never a
torn one (write a temporary file beside the target, fsync it, rename it over the target)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any


@contextlib.contextmanager
def atomic_open(path: str | Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` for writing (``mode`` "w" or "wb"); when the block
    ends without an error it is flushed, fsynced and renamed over ``path``, otherwise deleted.
    Its name is ``handle.name`` (for checks before it replaces ``path``)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_open writes whole files: mode 'w' or 'wb', got {mode!r}")
    path = Path(path)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    os.close(handle)  # reopened by name, so that ``out.name`` is the temporary file's path
    try:
        with open(temporary, mode) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_text_atomic(path: str | Path, text: str) -> None:
    with atomic_open(path, "w") as out:
        out.write(text)


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    with atomic_open(path, "wb") as out:
        out.write(data)
