"""Export benchmark and cost-model calibration table.

For each configuration of ``advisor.export.calibration.CALIBRATION_CONFIGS``: convert to
int8 TFLite, find the minimal TFLite Micro arena, and print measured vs estimated flash
and RAM (ratios: estimate / measured; the cost model should be within 1.00-1.10). Also
times one int8 inference in TFLite Micro against tf.lite's reference kernels (same run).

    python bench/bench_export.py [--json out.json] [--fit-flash]

``--fit-flash`` prints the flatbuffer constants of ``advisor/cost/deployment.py`` that
minimise the worst flash ratio subject to never under-estimating (a linear program).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

FLASH_CONSTANTS = ("MODEL_BYTES", "TENSOR_BYTES", "CONSTANT_BUFFER_BYTES", "OPERATOR_BYTES",
                   "QUANT_BYTES_PER_CHANNEL")


def calibration_table() -> list[dict]:
    from advisor.export.calibration import CALIBRATION_CONFIGS, measure

    rows = []
    for config in CALIBRATION_CONFIGS:
        started = time.perf_counter()
        row = measure(config)
        data = {**row.to_dict(), "seconds": round(time.perf_counter() - started, 2)}
        rows.append(data)
        c = config
        print(f"a={c.alpha:<5g} b={c.beta:<5g} t0={c.t0:<4g} N={c.num_layers} R={c.resolution:<3d} "
              f"flash {row.model_bytes:>8,} est {row.flash_estimate:>8,} x{row.flash_ratio:.3f}  "
              f"arena {row.arena_bytes:>8,} (head {row.head_bytes:>7,} tail {row.tail_bytes:>6,}) "
              f"est {row.ram_estimate:>8,} x{row.ram_ratio:.3f}  {data['seconds']:.1f} s",
              flush=True)
    flash = [r["flash_ratio"] for r in rows]
    ram = [r["ram_ratio"] for r in rows]
    print(f"flash estimate / measured: min {min(flash):.3f} max {max(flash):.3f}; "
          f"RAM estimate / measured arena: min {min(ram):.3f} max {max(ram):.3f}")
    return rows


def fit_flash(rows: list[dict]) -> dict[str, int]:
    """Least worst-case ratio, never under: min t s.t. y <= est(x) <= (1 + t) y, x >= 0."""
    from scipy.optimize import linprog

    from advisor.config import PhiNetConfig
    from advisor.cost import deployment, estimate

    configs = [PhiNetConfig.from_dict(r["config"]) for r in rows]
    measured = np.array([r["model_bytes"] for r in rows], dtype=float)
    saved = {name: getattr(deployment, name) for name in FLASH_CONSTANTS}
    try:
        for name in FLASH_CONSTANTS:
            setattr(deployment, name, 0)
        fixed = np.array([estimate(c).flash_bytes for c in configs], dtype=float)
        columns = []
        for name in FLASH_CONSTANTS:
            setattr(deployment, name, 1)
            columns.append(np.array([estimate(c).flash_bytes for c in configs]) - fixed)
            setattr(deployment, name, 0)
    finally:
        for name, value in saved.items():
            setattr(deployment, name, value)
    counts = np.stack(columns, axis=1)
    k = len(FLASH_CONSTANTS)
    objective = np.zeros(k + 1)
    objective[-1] = 1.0
    bounds_lhs = np.vstack([np.hstack([-counts, np.zeros((len(rows), 1))]),
                            np.hstack([counts, -measured[:, None]])])
    bounds_rhs = np.concatenate([fixed - measured, measured - fixed])
    result = linprog(objective, A_ub=bounds_lhs, b_ub=bounds_rhs, bounds=[(0, None)] * (k + 1))
    constants = np.ceil(result.x[:k])
    ratios = (counts @ constants + fixed) / measured
    print("fitted flash constants:", dict(zip(FLASH_CONSTANTS, constants.astype(int).tolist())),
          f"-> ratios {ratios.min():.3f}..{ratios.max():.3f}")
    return dict(zip(FLASH_CONSTANTS, constants.astype(int).tolist()))


def inference_speed() -> None:
    from advisor.export.calibration import CALIBRATION_CONFIGS, random_state_dict
    from advisor.export.convert import to_tflite
    from advisor.export.tflm import minimal_arena, run_tflm
    from advisor.export.verify import run_tflite

    config = CALIBRATION_CONFIGS[2]
    r = config.resolution
    rng = np.random.default_rng(0)
    model = to_tflite(config, random_state_dict(config),
                      rng.normal(0, 1, (4, 3, r, r)).astype(np.float32))
    inputs = rng.integers(-128, 128, (200, r, r, 3)).astype(np.int8)
    arena = minimal_arena(model).arena_bytes
    started = time.perf_counter()
    run_tflm(model, inputs, arena)
    micro = (time.perf_counter() - started) / len(inputs)
    started = time.perf_counter()
    run_tflite(model, inputs)
    reference = (time.perf_counter() - started) / len(inputs)
    print(f"int8 inference ({config.alpha}/{config.beta}/{config.t0}/{config.num_layers} at "
          f"{r}x{r}): TFLite Micro {1000 * micro:.2f} ms, tf.lite reference kernels "
          f"{1000 * reference:.2f} ms (baseline), ratio {reference / micro:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="Write the calibration table here.")
    parser.add_argument("--fit-flash", action="store_true",
                        help="Print the flash constants fitted to the table.")
    args = parser.parse_args()
    rows = calibration_table()
    if args.fit_flash:
        fit_flash(rows)
    inference_speed()
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=2)


if __name__ == "__main__":
    sys.exit(main())
