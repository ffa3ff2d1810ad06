"""Latency of one network, op by op, on one board (for `advisor check` and `advisor cost`)."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.latency.model import PairModel


@dataclass(frozen=True)
class OpLatency:
    index: int
    op: str
    op_class: str
    macs: int
    work: int
    ms: float


@dataclass(frozen=True)
class LatencyEstimate:
    """Estimated latency of a network on a board's core, engine and clock."""

    engine: str
    core: str
    clock_hz: int
    total_ms: float
    ops: tuple[OpLatency, ...]
    source: str

    def to_dict(self, per_op: bool = True) -> dict:
        data = {
            "engine": self.engine,
            "core": self.core,
            "clock_hz": self.clock_hz,
            "latency_ms": round(self.total_ms, 4),
            "source": self.source,
        }
        if per_op:
            data["ops"] = [
                {
                    "index": op.index,
                    "op": op.op,
                    "class": op.op_class,
                    "macs": op.macs,
                    "work": op.work,
                    "latency_ms": round(op.ms, 5),
                }
                for op in self.ops
            ]
        return data


def estimate_ops(model: PairModel, clock_hz: int, ops) -> LatencyEstimate:
    """`ops`: objects with `op`, `op_class`, `macs` and `work` (a parsed .tflite's
    `operators`, or the cost model's layers), in execution order."""
    out = []
    for index, op in enumerate(ops):
        cycles = model.op_cycles(op.op_class, op.work)
        out.append(
            OpLatency(
                index, op.op, op.op_class, int(op.macs), int(op.work), cycles / clock_hz * 1e3
            )
        )
    return LatencyEstimate(
        engine=model.engine,
        core=model.core,
        clock_hz=clock_hz,
        total_ms=sum(op.ms for op in out),
        ops=tuple(out),
        source=model.source,
    )
