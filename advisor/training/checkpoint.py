"""Checkpoints: written atomically, loaded back into a PhiNet, and the RNG states that make a
resumed run continue exactly."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from advisor.atomic import atomic_open
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError

FORMAT = 1
# what load_checkpoint leaves out of ``extra``: the weights it loads, and resume-only state
_BULK_KEYS = {"model_state", "optimizer_state", "rng", "generators"}


def save_atomic(payload: dict[str, Any], path: Path) -> None:
    """torch.save to a temporary file beside ``path``, fsync, then rename over ``path``: a
    crash leaves either the old file or the new one, never a torn one."""
    with atomic_open(path, "wb") as out:
        torch.save(payload, out)


def read(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    try:
        payload = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise AdvisorError(f"checkpoint {path} does not exist") from None
    except Exception as err:  # torch raises many types for a torn or foreign file
        raise AdvisorError(
            f"checkpoint {path} cannot be read ({type(err).__name__}: {err}); "
            f"it is corrupt or not an advisor checkpoint"
        ) from None
    if not (
        isinstance(payload, dict) and payload.get("format") == FORMAT and "model_state" in payload
    ):
        raise AdvisorError(f"{path} is not an advisor training checkpoint (format {FORMAT})")
    return payload


def load_checkpoint(
    path: str | Path, device: str | torch.device = "cpu"
) -> tuple[nn.Module, PhiNetConfig, dict[str, Any]]:
    """The trained PhiNet (in eval mode, on ``device``), its config, and what else the
    checkpoint records: recipe, epoch, val_accuracy, normalization {mean, std} (inputs are
    ``(pixel / 255 - mean) / std`` per channel), classes, data (source, split, sizes)."""
    from advisor.training.phinet import PhiNet

    payload = read(path)
    config = PhiNetConfig.from_dict(payload["config"])
    model = PhiNet(config)
    load_weights(model, payload["model_state"], path)
    model.to(device).eval()
    extra = {key: value for key, value in payload.items() if key not in _BULK_KEYS}
    return model, config, extra


def load_weights(model: nn.Module, state: dict[str, Any], path: str | Path) -> None:
    """Load a checkpoint's weights into `model`; a checkpoint whose weights belong to another
    architecture than its config (a file copied from another run) is refused by name."""
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()
        raise AdvisorError(
            f"checkpoint {path} holds weights of another architecture than its config "
            f"({first[1].strip() if len(first) > 1 else first[0] if first else err}); it was "
            "copied from another run or edited: use the run's own checkpoint, or start a new "
            "--out"
        ) from None


def rng_states() -> dict[str, Any]:
    """The global RNG states of python, numpy and torch (CPU and every initialised CUDA device)."""
    numpy_state = np.random.get_state(legacy=False)
    states = {
        "python": random.getstate(),
        "numpy": {
            "bit_generator": numpy_state["bit_generator"],
            "key": torch.from_numpy(numpy_state["state"]["key"].astype(np.int64)),
            "pos": int(numpy_state["state"]["pos"]),
            "has_gauss": int(numpy_state["has_gauss"]),
            "gauss": float(numpy_state["gauss"]),
        },
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_rng_states(states: dict[str, Any]) -> None:
    random.setstate(_as_tuple(states["python"]))
    numpy_state = states["numpy"]
    np.random.set_state(
        {
            "bit_generator": numpy_state["bit_generator"],
            "state": {
                "key": numpy_state["key"].numpy().astype(np.uint32),
                "pos": numpy_state["pos"],
            },
            "has_gauss": numpy_state["has_gauss"],
            "gauss": numpy_state["gauss"],
        }
    )
    torch.set_rng_state(states["torch"])
    if "cuda" in states and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(states["cuda"])


def _as_tuple(value: Any) -> Any:
    """random.setstate needs tuples; a checkpoint may hand back lists."""
    if isinstance(value, (list, tuple)):
        return tuple(_as_tuple(v) for v in value)
    return value
