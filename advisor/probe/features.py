"""Run a frozen network once over a set of images and keep each block's pooled output."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from advisor.errors import AdvisorError


def global_average_pool(output: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C): the mean over every axis after the channels."""
    if output.dim() < 2:
        raise AdvisorError(
            f"a block output must have a batch and a channel axis, got shape {tuple(output.shape)}"
        )
    return output.flatten(start_dim=2).mean(dim=2) if output.dim() > 2 else output


def pooled_block_features(
    model: torch.nn.Module,
    images: torch.Tensor,
    *,
    prepare: Callable[[torch.Tensor], torch.Tensor] | None = None,
    batch_size: int = 128,
) -> list[torch.Tensor]:
    """Globally average-pooled outputs of every block, one (N, C_b) float32 tensor per block.

    ``model`` is any module with ``forward_blocks(x) -> list[Tensor]`` (the output of each
    block in order). It runs in eval mode without gradients, one pass over ``images``.
    ``prepare`` turns a batch of stored images (e.g. uint8) into the model's input.
    """
    if not callable(getattr(model, "forward_blocks", None)):
        raise AdvisorError(
            f"{type(model).__name__} has no forward_blocks(x) method; a probe needs the output "
            "of every block (use advisor.training.phinet.PhiNet or add forward_blocks)"
        )
    if batch_size < 1:
        raise AdvisorError(f"batch_size must be >= 1, got {batch_size}")
    if len(images) == 0:
        raise AdvisorError("no images to probe: the split is empty")
    model.eval()
    per_block: list[list[torch.Tensor]] | None = None
    with torch.inference_mode():
        for start in range(0, len(images), batch_size):
            batch = images[start : start + batch_size]
            outputs = model.forward_blocks(prepare(batch) if prepare else batch)
            pooled = [global_average_pool(output).float() for output in outputs]
            if per_block is None:
                per_block = [[] for _ in pooled]
            elif len(pooled) != len(per_block):
                raise AdvisorError("forward_blocks returned a different number of blocks per batch")
            for store, features in zip(per_block, pooled):
                store.append(features)
    return [torch.cat(chunks) for chunks in per_block]


def block_names(model: torch.nn.Module, count: int) -> list[str]:
    """The model's own names for its block outputs (``block_names``), else "output i"."""
    names: Sequence[str] | None = getattr(model, "block_names", None)
    if callable(names):
        names = names()
    if names is not None and len(names) == count:
        return [str(name) for name in names]
    return [f"output {index}" for index in range(count)]
