"""The latency model at run time: coefficients of a (core family, engine) pair from the
shipped fit (`coefficients.json`, written by `bench/fit_latency_model.py`), and the
estimated latency of any op list or of many PhiNets at once (numpy only).

    cycles = sum over op classes of work * cycles_per_unit(class) + ops * overhead_cycles
    latency = cycles / clock
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.latency.ops import CLASSES

COEFFICIENTS_PATH = Path(__file__).resolve().parent / "coefficients.json"
# Engines a board may name (the fit also calibrates on others, e.g. Plumerai, Bosch HALE,
# microTVM, ONNC: they inform the core factors and are accepted too).
ENGINES = {
    "tflm-reference": "TensorFlow Lite Micro, reference kernels",
    "tflm-cmsis-nn": "TensorFlow Lite Micro + CMSIS-NN kernels (Arm Cortex-M)",
    "tflm-esp-nn": "TensorFlow Lite Micro + ESP-NN kernels (ESP32-S3)",
    "x-cube-ai": "ST X-CUBE-AI / ST Edge AI (STM32)",
    "xnnpack": "TensorFlow Lite + XNNPACK (Cortex-A, multi-threaded)",
}
# Cores a board may name that no published row covers: no estimate is made for them.
UNCALIBRATED_CORES = {"avr": "no published int8 latency of an 8-bit AVR"}


@dataclass(frozen=True)
class PairModel:
    """Coefficients of one (core, engine) pair and where they come from."""

    core: str
    engine: str
    cycles_per_unit: tuple[float, ...]  # per op class, CLASSES order
    overhead_cycles: float
    calibration_rows: int  # published rows of this very pair
    engine_rows: int  # published rows of this engine, any core
    typical_error: float | None  # relative, e.g. 0.25; None: unknown (nothing to check on)
    extrapolation: str | None  # why and from what, when the pair has no row of its own

    @property
    def source(self) -> str:
        """`estimated: latency model (<engine>, calibrated on N published measurements,
        typical error +-x %)`; `extrapolation` says more when the pair has no row."""
        from advisor.provenance import latency_model

        return latency_model(self.engine, self.engine_rows, self.typical_error)

    def cycles(self, work, ops):
        """Cycles of models with `work` (..., len(CLASSES)) per class and `ops` ops."""
        import numpy as np

        return np.asarray(work, float) @ np.asarray(self.cycles_per_unit) + (
            np.asarray(ops, float) * self.overhead_cycles
        )

    def op_cycles(self, op_class: str, work: float) -> float:
        """Cycles of one op of `op_class` doing `work` (its share of the overhead included)."""
        return work * self.cycles_per_unit[CLASSES.index(op_class)] + self.overhead_cycles


@functools.lru_cache(maxsize=1)
def load_coefficients(path: str | None = None) -> dict:
    """The shipped fit (read once per process)."""
    with open(path or COEFFICIENTS_PATH) as file:
        return json.load(file)


def known_cores(data: dict | None = None) -> list[str]:
    data = data or load_coefficients()
    return sorted([*data["coefficients"]["core"], *UNCALIBRATED_CORES])


def known_engines(data: dict | None = None) -> list[str]:
    data = data or load_coefficients()
    return sorted(data["coefficients"]["engine"])


def pair_parameters(coefficients: dict, core: str, engine: str) -> tuple[tuple[float, ...], float]:
    """(cycles per unit of work per class, overhead cycles per op) from a fit's coefficients
    (`advisor.latency.fit.fit`'s output). Pairs without rows of their own take the core x
    engine product (their random effects at 0)."""
    c = coefficients
    key = f"{core}/{engine}"
    library = c["kernels"][c["kernel_library"][engine]]
    scale = c["mu"] + c["core"][core] + c["engine"][engine] + c["pair"].get(key, 0.0)
    overhead = c["nu"] + c["core"][core] + c["engine_overhead"][engine]
    overhead += c["pair_overhead"].get(key, 0.0)
    return tuple(math.exp(scale + library[name]) for name in CLASSES), math.exp(overhead)


def pair_model(core: str, engine: str, data: dict | None = None) -> PairModel:
    """The model of `engine` on a `core` (ids as in `advisor boards`); AdvisorError when
    either is unknown or the core has no calibration."""
    data = data or load_coefficients()
    coefficients = data["coefficients"]
    if engine not in coefficients["engine"]:
        raise AdvisorError(
            f"unknown inference engine {engine!r}: known engines are "
            f"{', '.join(known_engines(data))}"
        )
    if core in UNCALIBRATED_CORES:
        raise AdvisorError(
            f"the latency model has no calibration for core {core!r} "
            f"({UNCALIBRATED_CORES[core]}); latency cannot be estimated"
        )
    if core not in coefficients["core"]:
        raise AdvisorError(
            f"unknown core family {core!r}: known cores are {', '.join(known_cores(data))}"
        )
    per_unit, overhead = pair_parameters(coefficients, core, engine)
    rows = data["rows"]
    pair_rows = [r for r in rows if r["core"] == core and r["engine"] == engine]
    engine_rows = [r for r in rows if r["engine"] == engine]
    errors = data["errors"][engine]
    extrapolation = None
    if not pair_rows:
        core_engines = sorted({r["engine"] for r in rows if r["core"] == core})
        engine_cores = sorted({r["core"] for r in engine_rows})
        extrapolation = (
            f"extrapolated: no published {engine} figure on {core}; core factor from "
            f"{sum(r['core'] == core for r in rows)} {core} rows of "
            f"{', '.join(core_engines)}; engine factor from {', '.join(engine_cores)}"
        )
    return PairModel(
        core=core,
        engine=engine,
        cycles_per_unit=tuple(float(v) for v in per_unit),
        overhead_cycles=float(overhead),
        calibration_rows=len(pair_rows),
        engine_rows=len(engine_rows),
        typical_error=errors["typical"] if pair_rows else errors["extrapolated"],
        extrapolation=extrapolation,
    )


def published_boards(data: dict | None = None) -> list[str]:
    """The boards of the calibration rows (their names as published)."""
    data = data or load_coefficients()
    return sorted({row["board"] for row in data["rows"]})
