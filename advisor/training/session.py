"""What a training session guards: the caller's global RNG states, and Ctrl-C (finish the
step, save, then stop)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from advisor.errors import AdvisorError
from advisor.training import checkpoint


@dataclass
class Stop:
    requested: bool = False
    by_signal: bool = False


@contextlib.contextmanager
def global_rng_preserved() -> Iterator[None]:
    """train() seeds the global RNGs (initialisation, dropout); the caller gets theirs back."""
    saved = checkpoint.rng_states()
    try:
        yield
    finally:
        checkpoint.set_rng_states(saved)


@contextlib.contextmanager
def ctrl_c_saves(stop: Stop) -> Iterator[None]:
    """First Ctrl-C: finish the current step, save, raise KeyboardInterrupt. Second: at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if stop.by_signal:
            raise KeyboardInterrupt
        stop.requested = stop.by_signal = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def set_threads(threads: int | None) -> None:
    """Apply --threads to torch in this process (None: leave torch's default). Imports torch
    either way: a training command without it stops here, before any work."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)


def resolve_device(device: str | None, here: bool = True):
    """The torch device `device` names (default: CUDA when available, else the CPU), refused
    with the fix when torch does not know it or (with `here`) this machine lacks it."""
    import torch

    if not device:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.strip().lower() in ("cpu", "cpu:0"):  # one CPU device; an index adds nothing
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, ValueError):
        raise AdvisorError(
            f"unknown --device {device!r}: use cpu, cuda, cuda:N or mps (or leave it out: "
            "CUDA when available, else the CPU)"
        ) from None
    if not here:
        return resolved
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if not available.get(resolved.type, False):
        raise AdvisorError(
            f"--device {device}: this machine has no {resolved.type} device torch can use; "
            "use --device cpu (or leave it out)"
        )
    if resolved.type == "cuda" and resolved.index is not None:
        count = torch.cuda.device_count()
        if resolved.index >= count:
            raise AdvisorError(
                f"--device {device}: there are {count} CUDA devices (cuda:0 to "
                f"cuda:{count - 1}); pick one of them"
            )
    return resolved
