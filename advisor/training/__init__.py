"""Training-side code: the PyTorch PhiNet and what trains it.

The public names load their module on first use, so importing this package never imports torch.
"""

import importlib

_EXPORTS = {
    "train": "trainer",
    "TrainResult": "trainer",
    "evaluate": "evaluation",
    "load_checkpoint": "checkpoint",
    "Recipe": "recipe",
    "load_dataset": "data",
    "DataSplits": "data",
    "PhiNet": "phinet",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"advisor.training.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'advisor.training' has no attribute {name!r}")
