"""Training images/s of advisor's loop vs a plain hand-written PyTorch loop, in one run.

Same PhiNet, batch, optimiser (Lamb), augmentation work (flip + rotation + zoom through one
grid_sample), data (random uint8 images in memory) and device. The two loops alternate
`--rounds` times; the ratio is the median of the per-round ratios (goal: advisor >= 0.95x
plain), since on a shared machine neighbouring runs see similar load. advisor's figure
is its own timer (the optimisation loop of each epoch, what TrainResult.images_per_second
reports); the per-epoch validation and checkpoint writes come on top and are printed apart.

    python bench/bench_train_loop.py [--threads 1] [--device cpu] [--images 2048] [--batch 64]
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from advisor.config import PhiNetConfig
from advisor.training.data import DataSplits
from advisor.training.phinet import PhiNet
from advisor.training.recipe import Recipe
from advisor.training.trainer import train


def synthetic_data(images: int, resolution: int, classes: int) -> DataSplits:
    generator = torch.Generator().manual_seed(0)
    pixels = torch.randint(
        0, 256, (images + 64, 3, resolution, resolution), dtype=torch.uint8, generator=generator
    )
    labels = torch.randint(0, classes, (images + 64,), generator=generator)
    return DataSplits(
        pixels[:images],
        labels[:images],
        pixels[images:],
        labels[images:],
        pixels[images:],
        labels[images:],
        [str(i) for i in range(classes)],
        resolution,
        (0.5, 0.5, 0.5),
        (0.25, 0.25, 0.25),
        "synthetic",
        "synthetic",
        "test+val",
        0,
    )


def plain_loop(
    config: PhiNetConfig, data: DataSplits, batch: int, epochs: int, lr: float, device: torch.device
) -> float:
    """The loop one would write by hand; returns images/s over its epochs."""
    from torch_optimizer import Lamb

    torch.manual_seed(0)
    model = PhiNet(config).to(device).train()
    optimizer = Lamb(model.parameters(), lr=lr, weight_decay=0.02)
    images, labels = data.train_images.to(device), data.train_labels.to(device)
    mean = torch.tensor(data.mean, device=device).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=device).view(1, 3, 1, 1)
    size = config.resolution
    steps = len(labels) // batch
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(len(labels), device=device)
        for step in range(steps):
            index = order[step * batch : (step + 1) * batch]
            x = (images[index].float() / 255 - mean) / std
            angle = (torch.rand(batch, device=device) * 2 - 1) * math.radians(10)
            zoom = 1 + (torch.rand(batch, device=device) * 2 - 1) * 0.1
            flip = torch.where(torch.rand(batch, device=device) < 0.5, -1.0, 1.0)
            cos, sin, zero = (
                torch.cos(angle) / zoom,
                torch.sin(angle) / zoom,
                torch.zeros(batch, device=device),
            )
            theta = torch.stack(
                [torch.stack([cos * flip, -sin, zero], 1), torch.stack([sin * flip, cos, zero], 1)],
                1,
            )
            grid = F.affine_grid(theta, [batch, 3, size, size], align_corners=False)
            x = F.grid_sample(x, grid, align_corners=False)
            loss = F.cross_entropy(model(x), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        loss.item()
    return epochs * steps * batch / (time.perf_counter() - start)


def advisor_loop(
    config: PhiNetConfig, data: DataSplits, batch: int, epochs: int, lr: float, device: torch.device
) -> tuple[float, float]:
    """images/s of train()'s optimisation loop, and its whole wall time per epoch."""
    recipe = Recipe(
        epochs=epochs,
        warmup_epochs=0,
        batch_size=batch,
        lr=lr,
        resolution=config.resolution,
        split="test+val",
        seed=0,
    )
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        result = train(config, data, Path(out) / "run", recipe, device=str(device), progress=False)
        wall = time.perf_counter() - start
    return result.images_per_second, wall / epochs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (1: the shared 2-core machine this was written on)",
    )
    parser.add_argument("--images", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    config = PhiNetConfig(alpha=0.25, beta=1.0, t0=6, num_layers=7, resolution=args.resolution)
    data = synthetic_data(args.images, args.resolution, config.num_classes)
    plain, ours, wall = [], [], []
    for round_ in range(args.rounds):
        # alternate which loop goes first, so that neither always meets the same neighbours' load
        if round_ % 2 == 0:
            plain.append(plain_loop(config, data, args.batch, args.epochs, 0.01, device))
        speed, epoch_wall = advisor_loop(config, data, args.batch, args.epochs, 0.01, device)
        if round_ % 2 == 1:
            plain.append(plain_loop(config, data, args.batch, args.epochs, 0.01, device))
        ours.append(speed)
        wall.append(epoch_wall)
        print(
            f"round {round_ + 1}: plain {plain[-1]:,.0f} img/s, advisor {ours[-1]:,.0f} img/s, "
            f"ratio {ours[-1] / plain[-1]:.3f}"
        )
    ratios = [a / p for a, p in zip(ours, plain)]
    ratio = statistics.median(ratios)
    report = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "batch": args.batch,
        "resolution": args.resolution,
        "images_per_epoch": args.images,
        "epochs": args.epochs,
        "model": config.to_dict(),
        "plain_images_per_second": statistics.median(plain),
        "advisor_images_per_second": statistics.median(ours),
        "ratio": ratio,
        "ratio_per_round": [round(r, 3) for r in ratios],
        "goal": 0.95,
        "advisor_epoch_wall_seconds_with_val_and_checkpoint": statistics.median(wall),
        "plain_epoch_seconds": args.images // args.batch * args.batch / statistics.median(plain),
    }
    print(json.dumps(report, indent=2))
    print(
        f"advisor / plain = {ratio:.3f} (median of {args.rounds} rounds; goal >= 0.95) on {device}, "
        f"{torch.get_num_threads()} thread(s)"
    )


if __name__ == "__main__":
    main()
