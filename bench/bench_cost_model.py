"""Cost model throughput on one core: configs/s for `estimate` (one config, per-layer
breakdown) and `estimate_totals` (arrays of alpha, beta, t0), plus the import time of
`advisor.cost`. Goal: >= 20,000 configs/s (the solver searches thousands per
`advisor recommend`).

    python bench/bench_cost_model.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import subprocess
import sys
import time

GOAL = 20_000  # configs/s


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to core {core}"
    return "not pinned (no sched_setaffinity here)"


def import_seconds(statement: str, repeat: int) -> float:
    """Best wall time of `statement` in a fresh interpreter, measured inside it."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    return min(
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(repeat)
    )


def best_rate(run, count: int, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {pin_to_one_core()}")

    numpy_s = import_seconds("import numpy", args.repeat)
    cost_s = import_seconds("import advisor.cost", args.repeat)
    print(f"import numpy:        {numpy_s * 1e3:7.1f} ms (baseline)")
    print(
        f"import advisor.cost: {cost_s * 1e3:7.1f} ms (numpy included; "
        f"{(cost_s - numpy_s) * 1e3:.1f} ms on top of numpy)"
    )

    import numpy as np

    from advisor.config import PhiNetConfig
    from advisor.cost import estimate, estimate_totals

    # The study's grid: alpha x beta x t0 x N = 5 x 3 x 3 x 6 = 270 configurations at 160 px.
    alphas, betas, t0s, layers = (
        (0.15, 0.3, 0.5, 0.9, 1.5),
        (0.75, 1.05, 1.35),
        (4, 5, 6),
        range(4, 10),
    )
    study = list(itertools.product(alphas, betas, t0s, layers))
    configs = [PhiNetConfig(a, b, t, n, 160) for a, b, t, n in study]
    scalar = best_rate(lambda: [estimate(c) for c in configs], len(configs), args.repeat)

    grid = np.meshgrid(np.array(alphas), np.array(betas), np.array(t0s), indexing="ij")

    def study_vectorized():
        return [estimate_totals(*grid, num_layers=n, resolution=160) for n in layers]

    vectorized_study = best_rate(study_vectorized, len(study), args.repeat)

    # Calls of 1,200 configurations, the size advisor.solver's search asks for per call.
    solver_grid = np.meshgrid(
        np.linspace(0.1, 3.0, 60), np.linspace(0.5, 2.0, 5), np.linspace(2.0, 8.0, 4), indexing="ij"
    )
    solver_count = solver_grid[0].size * len(layers)

    def solver_vectorized():
        return [estimate_totals(*solver_grid, num_layers=n, resolution=160) for n in layers]

    vectorized_solver = best_rate(solver_vectorized, solver_count, args.repeat)

    # A dense search grid: 100 alphas x 20 betas x 20 t0s per N.
    dense = np.meshgrid(
        np.linspace(0.1, 3.0, 100),
        np.linspace(0.5, 2.0, 20),
        np.linspace(2.0, 8.0, 20),
        indexing="ij",
    )
    dense_count = dense[0].size * len(layers)

    def dense_vectorized():
        return [estimate_totals(*dense, num_layers=n, resolution=160) for n in layers]

    vectorized_dense = best_rate(dense_vectorized, dense_count, args.repeat)

    totals = study_vectorized()
    first = estimate(configs[0])
    assert totals[0]["macs"][0, 0, 0] == first.macs, "vectorized and scalar paths disagree"

    print(
        f"estimate (scalar, per-layer breakdown), study grid {len(study)} configs: "
        f"{scalar:10,.0f} configs/s  ({scalar / GOAL:.2f}x goal)"
    )
    print(
        f"estimate_totals, study grid {len(study)} configs (6 calls of 45): "
        f"{vectorized_study:10,.0f} configs/s  ({vectorized_study / GOAL:.2f}x goal, "
        f"{vectorized_study / scalar:.0f}x scalar)"
    )
    print(
        f"estimate_totals, solver-sized calls, {solver_count:,} configs (6 calls of "
        f"{solver_grid[0].size:,}): {vectorized_solver:10,.0f} configs/s  "
        f"({vectorized_solver / GOAL:.1f}x goal, {vectorized_solver / scalar:.0f}x scalar)"
    )
    print(
        f"estimate_totals, dense grid {dense_count:,} configs (6 calls of "
        f"{dense[0].size:,}): {vectorized_dense:10,.0f} configs/s  "
        f"({vectorized_dense / GOAL:.1f}x goal, {vectorized_dense / scalar:.0f}x scalar)"
    )


if __name__ == "__main__":
    main()
