"""Export benchmark and cost-model calibration table.

For each configuration of ``advisor.export.calibration.CALIBRATION_CONFIGS``: convert to
int8 TFLite, find the minimal TFLite Micro arena, and print measured vs estimated flash
and RAM (ratios: estimate / measured; the cost model should be within 1.00-1.10). Also
times one int8 inference in TFLite Micro against tf.lite's reference kernels (same run).

    python bench/bench_export.py [--json out.json] [--fit-flash]

``--fit-flash`` prints the flatbuffer constants of ``advisor/cost/deployment.py`` that
minimise the worst flash ratio subject to never under-estimating, fitted to the table and
to tests/cost/tflite_measurements.json.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The fitted flatbuffer constants of advisor/cost/deployment.py (the others are exact).
FLASH_CONSTANTS = ("MODEL_BYTES", "TENSOR_BYTES")


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
    """The (MODEL_BYTES, TENSOR_BYTES) with the least worst over-estimate that never
    under-estimates: flash is linear in both, so for each TENSOR_BYTES the smallest
    MODEL_BYTES that covers every model is found directly."""
    import importlib

    from advisor.config import PhiNetConfig
    from advisor.cost import deployment
    import advisor.cost.model as cost_model

    configs = [PhiNetConfig.from_dict(r["config"]) for r in rows]
    measured = np.array([r["model_bytes"] for r in rows], dtype=float)
    saved = {name: getattr(deployment, name) for name in FLASH_CONSTANTS}

    def flash(model_bytes: int, tensor_bytes: int) -> np.ndarray:
        deployment.MODEL_BYTES, deployment.TENSOR_BYTES = model_bytes, tensor_bytes
        importlib.reload(cost_model)  # it derives some constants at import time
        return np.array([cost_model.estimate(c).flash_bytes for c in configs], dtype=float)

    try:
        fixed = flash(0, 0)
        tensors = flash(0, 1) - fixed
    finally:
        for name, value in saved.items():
            setattr(deployment, name, value)
        importlib.reload(cost_model)
    best = None
    for tensor_bytes in range(64, 256):
        model_bytes = int(np.ceil(max(0.0, np.max(measured - fixed - tensor_bytes * tensors))))
        worst = np.max((fixed + tensor_bytes * tensors + model_bytes) / measured)
        if best is None or worst < best[0]:
            best = (worst, model_bytes, tensor_bytes)
    fitted = {"MODEL_BYTES": best[1], "TENSOR_BYTES": best[2]}
    print(f"fitted flash constants: {fitted} -> never under, worst {best[0]:.4f}")
    return fitted


def inference_speed() -> None:
    from advisor.export.calibration import CALIBRATION_CONFIGS, random_phinet
    from advisor.export.convert import to_tflite
    from advisor.export.tflm import minimal_arena, run_tflm
    from advisor.export.verify import run_tflite

    config = CALIBRATION_CONFIGS[2]
    r = config.resolution
    rng = np.random.default_rng(0)
    model = to_tflite(config, random_phinet(config).state_dict(),
                      rng.normal(0, 1, (4, 3, r, r)).astype(np.float32))
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
        reference = Path(__file__).resolve().parents[1] / "tests" / "cost" / "tflite_measurements.json"
        known = {json.dumps(r["config"], sort_keys=True) for r in rows}
        rows_for_fit = rows + [{"config": m["config"], "model_bytes": m["tflite_bytes"]}
                               for m in json.loads(reference.read_text())["models"]
                               if json.dumps(m["config"], sort_keys=True) not in known]
        fit_flash(rows_for_fit)
    inference_speed()
    if args.json:
        with open(args.json, "w") as file:
            json.dump(rows, file, indent=2)


if __name__ == "__main__":
    sys.exit(main())
