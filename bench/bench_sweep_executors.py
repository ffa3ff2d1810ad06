"""Sweep throughput per executor: the same runs, one after another in the driver, then in
W local worker processes side by side, then (optionally) on a local Ray instance; runs per
minute and the ratio to the sequential baseline measured in the same invocation.

    python bench/bench_sweep_executors.py [--data PATH] [--resolution 16] [--epochs 1]
        [--runs 6] [--workers 2] [--device cuda] [--ray]

Without --data a small synthetic image folder is generated (two colour classes). On a GPU,
several processes training small PhiNets side by side should hide kernel-launch overhead:
the ratio for W workers is the figure to look at there (not measured yet: no GPU so far).
On a CPU, W processes with one thread each compete for the same cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import tempfile
import time
from pathlib import Path

from advisor.sweep.executors import make_executor
from advisor.sweep.grid import GridPoint
from advisor.sweep.recipe import recipe_dict
from advisor.sweep.regime import Regime
from advisor.sweep.runner import plan_sweep, run_sweep
from advisor.sweep.store import SweepStore


def _load_test_helper(name: str):
    """A helper module of tests/ (the one image generator tests and benchmarks share), loaded by
    its file: tests/ is not a package and stays off sys.path."""
    path = Path(__file__).resolve().parents[1] / "tests" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


write_colour_folder = _load_test_helper("synthetic_images").write_colour_folder


def synthetic_folder(root: Path, per_class: int, size: int) -> Path:
    counts = {"train": per_class, "test": max(2, per_class // 5)}
    return write_colour_folder(
        root, counts, colours=("red", "blue"), size=size, noise=90, boost=150
    )


def points(count: int) -> list[GridPoint]:
    """``count`` small, distinct PhiNets (alpha 0.15-0.3, N 4-9)."""
    grid = [
        GridPoint(alpha, 1.0, t0, n)
        for alpha in (0.15, 0.2, 0.25, 0.3)
        for t0 in (4, 6)
        for n in range(4, 10)
    ]
    return grid[:count]


def timed(name: str, executor, grid, regime, recipe, data, work: Path, device) -> float:
    with SweepStore(work / f"{name}.db") as store:
        plan = plan_sweep(
            grid,
            regime,
            recipe,
            data,
            store,
            work / f"{name}.runs",
            order="grid",
            device=device,
            data_options={"cache_dir": str(work / "cache")},
        )
        started = time.perf_counter()
        progress = run_sweep(plan, store, executor)
        seconds = time.perf_counter() - started
        if progress.failed:
            sys.exit(f"{name}: {progress.failed} runs failed: {store.rows('failed')[0]['error']}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="image folder / zip (default: synthetic)")
    parser.add_argument("--resolution", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--per-class", type=int, default=400, help="synthetic images per class")
    parser.add_argument("--device", default=None)
    parser.add_argument("--ray", action="store_true", help="also time a local Ray instance")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        data = args.data or str(
            synthetic_folder(work / "synthetic", args.per_class, args.resolution)
        )
        recipe = recipe_dict(
            resolution=args.resolution,
            epochs=args.epochs,
            warmup_epochs=0,
            batch_size=args.batch_size,
        )
        regime = Regime.from_recipe(Path(data).name, recipe)
        grid = points(args.runs)
        threads = None if args.device and args.device.startswith("cuda") else 1
        # a warm-up run so that the sequential baseline does not pay the first imports alone
        timed(
            "warmup",
            make_executor("local", threads=threads),
            grid[:1],
            regime,
            recipe,
            data,
            work,
            args.device,
        )
        results = {
            "sequential": timed(
                "sequential",
                make_executor("local", threads=threads),
                grid,
                regime,
                recipe,
                data,
                work,
                args.device,
            )
        }
        results[f"local x{args.workers}"] = timed(
            "workers",
            make_executor("local", workers=args.workers, threads=threads),
            grid,
            regime,
            recipe,
            data,
            work,
            args.device,
        )
        if args.ray:
            gpus = 1 / args.workers if args.device and args.device.startswith("cuda") else 0
            results[f"ray x{args.workers}"] = timed(
                "ray",
                make_executor("ray", workers=args.workers, gpus_per_run=gpus),
                grid,
                regime,
                recipe,
                data,
                work,
                args.device,
            )
    baseline = results["sequential"]
    print(f"{args.runs} runs, {regime.label()}, device {args.device or 'default'}")
    for name, seconds in results.items():
        print(
            f"  {name:<14} {seconds:7.1f} s  {60 * args.runs / seconds:6.1f} runs/min  "
            f"{baseline / seconds:5.2f}x sequential (includes worker start-up)"
        )
    print(json.dumps({name: round(seconds, 2) for name, seconds in results.items()}))


if __name__ == "__main__":
    main()
