"""What a training session guards: the caller's global RNG states, and Ctrl-C (finish the
step, save, then stop)."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass

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
