"""Does a measured model fit a board? Flash: model bytes + the board's flash reserve
(the measured runtime + HAL reserve, or the profile's assumed reserve) <= flash; RAM: tensor arena + the board's RAM reserve <= the RAM the arena can use;
latency: the latency model's estimate on the board's core, engine and clock <= the
latency budget (not judged when the board's core has no calibration)."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.boards import Board


@dataclass(frozen=True)
class BoardFit:
    board_id: str
    fits: bool
    flash_margin_bytes: int  # flash budget left after the model; negative when it overflows
    ram_margin_bytes: int  # arena budget left after the arena; negative when it overflows
    engine: str | None = None
    latency_ms: float | None = None  # estimated; None: not estimated
    latency_budget_ms: float | None = None
    latency_source: str | None = None
    flash_budget_source: str | None = None

    @property
    def latency_margin_ms(self) -> float | None:
        if self.latency_ms is None or self.latency_budget_ms is None:
            return None
        return self.latency_budget_ms - self.latency_ms

    def to_dict(self) -> dict:
        margin = self.latency_margin_ms
        return {
            "id": self.board_id,
            "fits": self.fits,
            "flash_margin_bytes": self.flash_margin_bytes,
            "ram_margin_bytes": self.ram_margin_bytes,
            "engine": self.engine,
            "latency_ms": None if self.latency_ms is None else round(self.latency_ms, 3),
            "latency_budget_ms": self.latency_budget_ms,
            "latency_margin_ms": None if margin is None else round(margin, 3),
            "latency_source": self.latency_source,
            "flash_budget_source": self.flash_budget_source,
        }

    def reasons(self) -> list[str]:
        """Why it does not fit, in words (empty when it fits)."""
        out = []
        if self.flash_margin_bytes < 0:
            out.append(
                f"model is {-self.flash_margin_bytes:,} B over {self.board_id}'s flash budget"
            )
        if self.ram_margin_bytes < 0:
            out.append(f"arena is {-self.ram_margin_bytes:,} B over {self.board_id}'s RAM budget")
        margin = self.latency_margin_ms
        if margin is not None and margin < 0:
            out.append(
                f"estimated latency {self.latency_ms:.1f} ms is over {self.board_id}'s "
                f"{self.latency_budget_ms:g} ms budget ({self.engine})"
            )
        return out


def judge(
    board: Board,
    model_bytes: int,
    arena_bytes: int,
    latency_ms: float | None = None,
    latency_budget_ms: float | None = None,
    latency_source: str | None = None,
) -> BoardFit:
    """The verdict for `board`; latency is judged when `latency_ms` (an estimate) is given,
    against `latency_budget_ms` (default: the board's)."""
    flash_margin = board.flash_budget_bytes - model_bytes
    ram_margin = board.ram_budget_bytes - arena_bytes
    budget = board.latency_ms if latency_budget_ms is None else latency_budget_ms
    fits = flash_margin >= 0 and ram_margin >= 0
    if latency_ms is not None:
        fits = fits and latency_ms <= budget
    return BoardFit(
        board.id,
        fits,
        flash_margin,
        ram_margin,
        engine=board.engine,
        latency_ms=latency_ms,
        latency_budget_ms=budget,
        latency_source=latency_source,
        flash_budget_source=board.flash_budget_source,
    )


def judge_model(
    board: Board,
    model_bytes: int,
    arena_bytes: int,
    operators,
    latency_budget_ms: float | None = None,
):
    """The verdict for `board` on a parsed .tflite (`operators`: its ops with their work)
    and the latency estimate it rests on: (BoardFit, LatencyEstimate or None, note). The
    latency is not estimated, nor judged, where the board's core has no calibration; the
    note then says why, else what the estimate extrapolates from (None when nothing)."""
    from advisor.errors import AdvisorError
    from advisor.latency import estimate_ops

    try:
        model = board.latency_model()
    except AdvisorError as err:
        fit = judge(board, model_bytes, arena_bytes, None, latency_budget_ms)
        return fit, None, f"latency not judged: {err}"
    estimate = estimate_ops(model, board.clock_hz, operators)
    fit = judge(
        board, model_bytes, arena_bytes, estimate.total_ms, latency_budget_ms, estimate.source
    )
    note = "; ".join(note for note in (model.extrapolation, board.latency_note()) if note)
    return fit, estimate, note or None
