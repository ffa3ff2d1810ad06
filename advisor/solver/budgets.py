"""The three budgets a PhiNet must fit on a board: int8 flash, arena RAM and MACs."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from advisor.boards import Board, parse_size
from advisor.errors import AdvisorError
from advisor.provenance import BOARD_PROFILE

COMMAND_LINE = "command line"


@dataclass(frozen=True)
class Budgets:
    """What the model may use: `flash_bytes` of int8 model (flash minus the reserve),
    `ram_bytes` of tensor arena (contiguous RAM minus the reserve) and `macs` per inference
    (latency target x clock x MACs per cycle). `clock_hz` and `macs_per_cycle` turn MACs
    back into an estimated latency; `sources` says where each figure came from."""

    flash_bytes: int
    ram_bytes: int
    macs: int
    latency_ms: float
    clock_hz: int
    macs_per_cycle: float
    sources: dict[str, str] = field(default_factory=dict)

    def fits(self, flash_bytes, arena_bytes, macs) -> np.ndarray:
        """Elementwise: does a model of these costs fit all three budgets? `arena_bytes` is
        the whole tensor arena TFLite Micro needs (the cost model's ``arena_bytes``)."""
        return (
            (np.asarray(flash_bytes) <= self.flash_bytes)
            & (np.asarray(arena_bytes) <= self.ram_bytes)
            & (np.asarray(macs) <= self.macs)
        )

    def latency_ms_for(self, macs: float) -> float:
        """Estimated latency of `macs` at the board's clock and int8 MACs per cycle."""
        return macs / (self.clock_hz * self.macs_per_cycle) * 1000.0

    def use_percent(self, flash_bytes: int, arena_bytes: int, macs: int) -> dict[str, float]:
        return {
            "flash": round(100.0 * flash_bytes / self.flash_bytes, 1),
            "ram": round(100.0 * arena_bytes / self.ram_bytes, 1),
            "macs": round(100.0 * macs / self.macs, 1),
        }

    def to_dict(self) -> dict:
        return {
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "macs": self.macs,
            "latency_ms": self.latency_ms,
            "clock_hz": self.clock_hz,
            "macs_per_cycle": self.macs_per_cycle,
            "sources": dict(self.sources),
        }


def budgets_for(
    board: Board,
    *,
    latency_ms: float | None = None,
    flash: int | str | None = None,
    ram: int | str | None = None,
    macs: int | str | None = None,
) -> Budgets:
    """The board's budgets, each replaceable: `flash` and `ram` are the bytes the model may use
    ("512KB" accepted), `macs` the MACs per inference, `latency_ms` the latency target from
    which the MAC budget is derived when `macs` is not given."""
    sources = dict.fromkeys(("flash_bytes", "ram_bytes", "macs", "latency_ms"), BOARD_PROFILE)
    if latency_ms is not None:
        if (
            isinstance(latency_ms, bool)
            or not isinstance(latency_ms, (int, float))
            or not latency_ms > 0
        ):
            raise AdvisorError(
                f"latency target must be a positive number of milliseconds, got "
                f"{latency_ms!r}: e.g. --latency-ms 100"
            )
        sources["latency_ms"] = sources["macs"] = COMMAND_LINE
    target_ms = float(board.latency_ms if latency_ms is None else latency_ms)
    flash_budget = _positive_size(flash, "flash budget", "--flash 512KB")
    ram_budget = _positive_size(ram, "RAM budget", "--ram 256KB")
    mac_budget = _positive_count(macs, "MAC budget", "--macs 20000000")
    if flash_budget is not None:
        sources["flash_bytes"] = COMMAND_LINE
    if ram_budget is not None:
        sources["ram_bytes"] = COMMAND_LINE
    if mac_budget is not None:
        sources["macs"] = COMMAND_LINE
    return Budgets(
        flash_bytes=board.flash_budget_bytes if flash_budget is None else flash_budget,
        ram_bytes=board.ram_budget_bytes if ram_budget is None else ram_budget,
        macs=board.mac_budget(target_ms) if mac_budget is None else mac_budget,
        latency_ms=target_ms,
        clock_hz=board.clock_hz,
        macs_per_cycle=board.macs_per_cycle,
        sources=sources,
    )


def _positive_size(value: int | str | None, what: str, example: str) -> int | None:
    if value is None:
        return None
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and text.startswith("-"):
        raise AdvisorError(f"{what} {value!r} is negative: give a positive size, e.g. {example}")
    try:
        size = parse_size(text)
    except AdvisorError as err:
        raise AdvisorError(f"{what}: {err}") from None
    if size <= 0:
        raise AdvisorError(f"{what} must be positive, got {value!r}: e.g. {example}")
    return size


def _positive_count(value: int | str | None, what: str, example: str) -> int | None:
    if value is None:
        return None
    text = str(value).strip().replace("_", "")
    try:
        count = int(float(text)) if "e" in text.lower() else int(text)
    except ValueError:
        raise AdvisorError(f"{what} {value!r} is not a number: e.g. {example} or 2e7") from None
    if count <= 0:
        raise AdvisorError(f"{what} must be positive, got {value!r}: e.g. {example}")
    return count
