"""The budgets a PhiNet must fit on a board, one table of kinds: int8 flash, tensor-arena
RAM and latency (estimated by the latency model of the board's core and engine), plus an
optional cap on MACs.

Every place that compares, prints or explains a budget iterates `BUDGET_KINDS`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from advisor.boards import Board, parse_size
from advisor.boards.runtime_flash import FlashReserve
from advisor.errors import AdvisorError
from advisor.provenance import BOARD_PROFILE
from advisor.validation import INT64_MAX, integer, positive_real

if TYPE_CHECKING:
    from advisor.latency import PairModel

COMMAND_LINE = "command line"


class BudgetKind(NamedTuple):
    name: str  # key in use_percent, binding and over_budget
    label: str  # for people
    cost: str  # candidate-table column compared with the budget
    budget: str  # Budgets field
    option: str  # the command-line option that sets it
    example: str


BUDGET_KINDS = (
    BudgetKind("flash", "int8 flash", "flash_bytes", "flash_bytes", "--flash", "512KB"),
    BudgetKind("ram", "RAM: tensor arena", "arena_bytes", "ram_bytes", "--ram", "256KB"),
    BudgetKind("latency", "latency", "latency_ms", "latency_ms", "--latency-ms", "100"),
    BudgetKind("macs", "MACs (cap)", "macs", "macs", "--macs", "2e7"),
)
KINDS = {kind.name: kind for kind in BUDGET_KINDS}


@dataclass(frozen=True)
class Budgets:
    """What the model may use: `flash_bytes` of int8 model (flash minus `flash_reserve`: the
    runtime measured in a linked image + the HAL reserve, or the profile's assumed reserve),
    `ram_bytes` of tensor arena (contiguous RAM minus the reserve), `latency_ms` per
    inference as the latency model estimates it on the board's core, engine and clock
    (`latency`: the model, None when the core has no calibration: then latency is not
    judged), and an optional cap on `macs`. `sources` says where each figure came from."""

    flash_bytes: int
    ram_bytes: int
    latency_ms: float
    clock_hz: int
    latency: PairModel | None = None
    macs: int | None = None
    latency_unavailable: str | None = None
    sources: dict[str, str] = field(default_factory=dict)
    flash_reserve: FlashReserve | None = None  # None when --flash set the budget

    def active(self) -> list[tuple[BudgetKind, float]]:
        """The kinds this budget judges, with their limits (latency only with a latency
        model, MACs only when capped)."""
        out = []
        for kind in BUDGET_KINDS:
            limit = self.limit(kind)
            if limit is not None:
                out.append((kind, float(limit)))
        return out

    def limit(self, kind: BudgetKind) -> float | None:
        if kind.name == "latency" and self.latency is None:
            return None
        return getattr(self, kind.budget)

    def latency_ms_of(self, table: dict):
        """Estimated latency (ms) of the candidates in `table` (the cost model's work
        columns); NaN without a latency model."""
        from advisor.latency import CLASSES

        ops = np.asarray(table["ops"], float)
        if self.latency is None:
            return np.full(ops.shape, np.nan)
        work = np.stack([np.asarray(table[f"work_{name}"], float) for name in CLASSES], -1)
        return self.latency.cycles(work, ops) / self.clock_hz * 1000.0

    def fits(self, table: dict) -> np.ndarray:
        """Elementwise: do the candidates of `table` (cost columns, and `latency_ms`) fit
        every active budget? `arena_bytes` is the whole tensor arena TFLite Micro needs."""
        result = np.ones(np.shape(table["flash_bytes"]), bool)
        for kind, limit in self.active():
            result = result & (np.asarray(table[kind.cost]) <= limit)
        return result

    def use_percent(self, costs: dict) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for kind in BUDGET_KINDS:
            limit = self.limit(kind)
            out[kind.name] = None if limit is None else round(100 * costs[kind.cost] / limit, 1)
        return out

    def over(self, costs: dict) -> list[str]:
        """The kinds `costs` exceeds."""
        return [
            kind.name for kind in BUDGET_KINDS if costs[kind.cost] > (self.limit(kind) or np.inf)
        ]

    def to_dict(self) -> dict:
        return {
            "flash_bytes": self.flash_bytes,
            "ram_bytes": self.ram_bytes,
            "latency_ms": self.latency_ms,
            "macs": self.macs,
            "clock_hz": self.clock_hz,
            "engine": None if self.latency is None else self.latency.engine,
            "latency_judged": self.latency is not None,
            "latency_unavailable": self.latency_unavailable,
            "sources": dict(self.sources),
            "flash_reserve": None if self.flash_reserve is None else self.flash_reserve.to_dict(),
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
    ("512KB" accepted), `latency_ms` the latency budget (default: the profile's), `macs` an
    optional cap on MACs per inference."""
    sources = dict.fromkeys(("flash_bytes", "ram_bytes", "latency_ms"), BOARD_PROFILE)
    sources["flash_bytes"] = board.flash_budget_source
    if latency_ms is not None:
        latency_ms = positive_real(
            latency_ms,
            "latency target",
            fix="give a positive, finite number of milliseconds, e.g. --latency-ms 100",
        )
        sources["latency_ms"] = COMMAND_LINE
    flash_budget = _positive_size(flash, "flash budget", "--flash 512KB")
    ram_budget = _positive_size(ram, "RAM budget", "--ram 256KB")
    mac_budget = _positive_count(macs, "MAC budget", "--macs 20000000")
    if flash_budget is not None:
        sources["flash_bytes"] = COMMAND_LINE
    if ram_budget is not None:
        sources["ram_bytes"] = COMMAND_LINE
    if mac_budget is not None:
        sources["macs"] = COMMAND_LINE
    try:
        model, unavailable = board.latency_model(), None
        sources["latency_estimate"] = model.source
    except AdvisorError as err:
        model, unavailable = None, str(err)
    return Budgets(
        flash_bytes=board.flash_budget_bytes if flash_budget is None else flash_budget,
        ram_bytes=board.ram_budget_bytes if ram_budget is None else ram_budget,
        latency_ms=float(board.latency_ms if latency_ms is None else latency_ms),
        clock_hz=board.clock_hz,
        latency=model,
        macs=mac_budget,
        latency_unavailable=unavailable,
        sources=sources,
        flash_reserve=board.flash_reserve() if flash_budget is None else None,
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
    return integer(
        value,
        what,
        low=1,
        high=INT64_MAX,
        fix=f"give a whole, positive number, e.g. {example} or 2e7",
    )
