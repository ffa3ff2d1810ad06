"""Export benchmark and cost-model calibration table.

For each configuration of ``advisor.export.cost_calibration.CALIBRATION_CONFIGS``: convert to
int8 TFLite, find the minimal TFLite Micro arena, and print measured vs estimated flash
and the whole tensor arena (ratios: estimate / measured; the cost model's flash_bytes and
arena_bytes should be within 1.00-1.10). Also
times one int8 inference in TFLite Micro against tf.lite's reference kernels (same run).

    python bench/bench_export.py [--json out.json] [--fit-flash]

``--fit-flash`` prints the flatbuffer constants of ``advisor/cost/deployment.py`` that
minimise the worst flash ratio subject to never under-estimating, fitted to the table and
to tests/cost/tflite_measurements.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The fitted constants of advisor/cost/deployment.py (the others are exact).
FLASH_CONSTANTS = ("ACTIVATION_TENSOR_BYTES", "CONSTANT_TENSOR_BYTES")  # + MODEL_BYTES
ARENA_TAIL_CONSTANTS = (
    "ARENA_BYTES_PER_OP",
    "ARENA_BYTES_PER_TENSOR",
    "ARENA_BYTES_PER_CHANNEL",
    "ARENA_BYTES",
)
ARENA_PLANNER_CONSTANTS = ("PLANNER_BYTES_PER_TENSOR", "PLANNER_BYTES_PER_OP", "PLANNER_BYTES")
REFERENCE = Path(__file__).resolve().parents[1] / "tests" / "cost" / "tflite_measurements.json"


def calibration_table() -> list[dict]:
    from advisor.export.cost_calibration import CALIBRATION_CONFIGS, measure

    rows = []
    for config in CALIBRATION_CONFIGS:
        started = time.perf_counter()
        row = measure(config)
        data = {**row.to_dict(), "seconds": round(time.perf_counter() - started, 2)}
        rows.append(data)
        c = config
        print(
            f"a={c.alpha:<5g} b={c.beta:<5g} t0={c.t0:<4g} N={c.num_layers} R={c.resolution:<3d} "
            f"flash {row.model_bytes:>8,} est {row.flash_estimate:>8,} x{row.flash_ratio:.3f}  "
            f"arena {row.arena_bytes:>8,} (head {row.head_bytes:>7,} tail {row.tail_bytes:>6,}) "
            f"est {row.arena_estimate:>8,} x{row.arena_ratio:.3f}  "
            f"(activation peak est {row.peak_ram_estimate:>8,})  {data['seconds']:.1f} s",
            flush=True,
        )
    flash = [r["flash_ratio"] for r in rows]
    arena = [r["arena_ratio"] for r in rows]
    print(
        f"flash estimate / measured: min {min(flash):.3f} max {max(flash):.3f}; "
        f"arena estimate / measured arena: min {min(arena):.3f} max {max(arena):.3f}"
    )
    return rows


def _cost_model_with(
    configs, names: tuple[str, ...], values: dict[str, int], figure: str
) -> np.ndarray:
    """`figure` of each config with the deployment constants `names` set to `values` (0 when
    not given), the cost model reloaded so that its derived constants follow."""
    import importlib

    import advisor.cost.model as cost_model
    from advisor.cost import deployment

    saved = {name: getattr(deployment, name) for name in names}
    try:
        for name in names:
            setattr(deployment, name, values.get(name, 0))
        importlib.reload(cost_model)
        return np.array([getattr(cost_model.estimate(c), figure) for c in configs], dtype=float)
    finally:
        for name, value in saved.items():
            setattr(deployment, name, value)
        importlib.reload(cost_model)


def _least_worst_ratio(base: np.ndarray, features: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """Coefficients x (the last one a free constant, the others >= 0) minimising the worst
    (base + features @ x) / measured subject to never under-estimating: a linear program."""
    from scipy.optimize import linprog

    count = features.shape[1]
    rows = np.vstack([np.c_[features, -measured], np.c_[-features, np.zeros(len(features))]])
    bounds = [(0, None)] * (count - 1) + [(None, None), (0, None)]
    result = linprog(
        np.r_[np.zeros(count), 1.0], A_ub=rows, b_ub=np.r_[-base, base - measured], bounds=bounds
    )
    if result.status != 0:
        raise RuntimeError(f"the fit failed: {result.message}")
    return result.x[:count]


def fit_flash(rows: list[dict]) -> dict[str, int]:
    """ACTIVATION_TENSOR_BYTES, CONSTANT_TENSOR_BYTES and MODEL_BYTES with the least worst
    over-estimate that never under-estimates (flash is linear in all three); the tensor
    constants are rounded to integers (whichever way is best) and MODEL_BYTES is then the
    least that covers every model."""
    from advisor.config import PhiNetConfig

    configs = [PhiNetConfig.from_dict(r["config"]) for r in rows]
    measured = np.array([r["model_bytes"] for r in rows], dtype=float)
    names = (*FLASH_CONSTANTS, "MODEL_BYTES")
    exact = _cost_model_with(configs, names, {}, "flash_bytes")
    counts = [
        _cost_model_with(configs, names, {name: 1}, "flash_bytes") - exact
        for name in FLASH_CONSTANTS
    ]
    x = _least_worst_ratio(exact, np.c_[np.stack(counts, 1), np.ones(len(rows))], measured)
    best = None
    for rounded in itertools.product(*[(np.floor(v), np.ceil(v)) for v in x[: len(counts)]]):
        covered = exact + sum(value * count for value, count in zip(rounded, counts))
        model_bytes = np.ceil(np.max(measured - covered))
        worst = np.max((covered + model_bytes) / measured)
        if best is None or worst < best[0]:
            best = (worst, rounded, model_bytes, (covered + model_bytes) / measured)
    _, rounded, model_bytes, ratio = best
    fitted = {name: int(value) for name, value in zip(FLASH_CONSTANTS, rounded)}
    fitted["MODEL_BYTES"] = int(model_bytes)
    print(
        f"fitted flash constants: {fitted} -> estimate / measured {ratio.min():.4f}-"
        f"{ratio.max():.4f} on {len(rows)} models"
    )
    return fitted


def fit_arena(models: list[dict]) -> dict[str, int]:
    """The arena constants of advisor/cost/deployment.py with the least worst over-estimate
    that never under-estimates, on measured arenas split into head and tail: the tail terms
    must cover each tail, the planner terms each head larger than the activation plan."""
    from advisor.config import PhiNetConfig

    configs = [PhiNetConfig.from_dict(m["config"]) for m in models]
    arena = np.array([m["tflm_arena_bytes"] for m in models], dtype=float)
    tail = np.array([m["tflm_tail_bytes"] for m in models], dtype=float)
    names = ARENA_TAIL_CONSTANTS + ARENA_PLANNER_CONSTANTS
    off = -(10**12)  # a planner term that never wins: the arena is then plan + tail
    plan = _cost_model_with(configs, names, {"PLANNER_BYTES": off}, "arena_bytes")
    tail_counts = np.stack(
        [
            _cost_model_with(configs, names, {name: 1, "PLANNER_BYTES": off}, "arena_bytes") - plan
            for name in ARENA_TAIL_CONSTANTS
        ],
        1,
    )
    on = 10**12  # a planner term that always wins
    planner_counts = np.stack(
        [
            _cost_model_with(configs, names, {name: 1, "PLANNER_BYTES": on}, "arena_bytes") - on
            for name in ARENA_PLANNER_CONSTANTS[:-1]
        ],
        1,
    )
    planner_counts = np.c_[planner_counts, np.ones(len(models))]
    scratch = arena - tail  # the head: the activation plan or the planner's scratch
    planned = scratch > plan
    # variables: the tail coefficients, then the planner's; each group's constant is free
    lower = np.vstack(
        [
            np.c_[tail_counts, np.zeros_like(planner_counts)],
            np.c_[np.zeros_like(tail_counts[planned]), planner_counts[planned]],
        ]
    )
    x = _fit_arena_lp(
        lower, np.r_[tail, scratch[planned]], tail_counts, planner_counts, plan, arena
    )
    fitted = {name: int(np.ceil(value - 1e-9)) for name, value in zip(names, x)}
    estimate = _cost_model_with(configs, names, fitted, "arena_bytes")
    ratio = estimate / arena
    print(
        f"fitted arena constants: {fitted} -> estimate / measured {ratio.min():.4f}-"
        f"{ratio.max():.4f} on {len(models)} models ({planned.sum()} with the planner's "
        f"scratch larger than the activation plan)"
    )
    return fitted


def _fit_arena_lp(lower, floor, tail_counts, planner_counts, plan, arena) -> np.ndarray:
    """min t: plan + tail <= t arena, planner + tail <= t arena, lower @ x >= floor."""
    from scipy.optimize import linprog

    n, k, m = len(arena), tail_counts.shape[1], planner_counts.shape[1]
    upper = np.vstack(
        [np.c_[tail_counts, np.zeros((n, m)), -arena], np.c_[tail_counts, planner_counts, -arena]]
    )
    rows = np.vstack([upper, np.c_[-lower, np.zeros(len(lower))]])
    bounds = (
        [(0, None)] * (k - 1) + [(None, None)] + [(0, None)] * (m - 1) + [(None, None), (0, None)]
    )
    result = linprog(
        np.r_[np.zeros(k + m), 1.0],
        A_ub=rows,
        b_ub=np.r_[-plan, np.zeros(n), -floor],
        bounds=bounds,
    )
    if result.status != 0:
        raise RuntimeError(f"the arena fit failed: {result.message}")
    return result.x[: k + m]


def inference_speed() -> None:
    from advisor.export.convert import to_tflite
    from advisor.export.cost_calibration import CALIBRATION_CONFIGS, random_phinet
    from advisor.export.tflm import minimal_arena, run_tflm
    from advisor.export.verify import run_tflite

    config = CALIBRATION_CONFIGS[2]
    r = config.resolution
    rng = np.random.default_rng(0)
    model = to_tflite(
        config,
        random_phinet(config).state_dict(),
        rng.normal(0, 1, (4, 3, r, r)).astype(np.float32),
    )
    inputs = rng.integers(-128, 128, (200, r, r, 3)).astype(np.int8)
    arena = minimal_arena(model).arena_bytes
    started = time.perf_counter()
    run_tflm(model, inputs[:1], arena)
    startup = time.perf_counter() - started  # the TFLM child process and one inference
    started = time.perf_counter()
    run_tflm(model, inputs, arena)
    micro = (time.perf_counter() - started - startup) / (len(inputs) - 1)
    started = time.perf_counter()
    run_tflite(model, inputs)
    reference = (time.perf_counter() - started) / len(inputs)
    print(
        f"int8 inference ({config.alpha}/{config.beta}/{config.t0}/{config.num_layers} at "
        f"{r}x{r}): TFLite Micro {1000 * micro:.2f} ms, tf.lite reference kernels "
        f"{1000 * reference:.2f} ms (baseline), ratio {reference / micro:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="Write the calibration table here.")
    parser.add_argument(
        "--fit-flash",
        action="store_true",
        help="Print the flash constants fitted to the table and "
        "tests/cost/tflite_measurements.json.",
    )
    parser.add_argument(
        "--fit-arena",
        action="store_true",
        help="Only print the arena constants fitted to "
        "tests/cost/tflite_measurements.json (converts nothing).",
    )
    args = parser.parse_args()
    reference = json.loads(REFERENCE.read_text())["models"]
    if args.fit_arena:
        fit_arena(reference)
        return
    rows = calibration_table()
    if args.fit_flash:
        known = {json.dumps(r["config"], sort_keys=True) for r in rows}
        rows_for_fit = rows + [
            {"config": m["config"], "model_bytes": m["tflite_bytes"]}
            for m in reference
            if json.dumps(m["config"], sort_keys=True) not in known
        ]
        fit_flash(rows_for_fit)
    inference_speed()
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=2)


if __name__ == "__main__":
    sys.exit(main())
