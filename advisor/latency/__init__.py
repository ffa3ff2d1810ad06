"""Estimated int8 inference latency per (core family, inference engine), per op:
time = sum over ops of work / throughput of the op's class + a per-op overhead, with
coefficients fitted on published measurements (`coefficients.json`, refit with
`python bench/fit_latency_model.py`). Pure Python + numpy on the light path.
"""

from advisor.latency.estimate import LatencyEstimate, OpLatency, estimate_ops
from advisor.latency.model import (
    ENGINES,
    PairModel,
    known_cores,
    known_engines,
    load_coefficients,
    pair_model,
    published_boards,
)
from advisor.latency.ops import CLASSES, op_class, op_work

__all__ = [
    "CLASSES",
    "ENGINES",
    "LatencyEstimate",
    "OpLatency",
    "PairModel",
    "estimate_ops",
    "known_cores",
    "known_engines",
    "load_coefficients",
    "op_class",
    "op_work",
    "pair_model",
    "published_boards",
]
