"""Does a measured model fit a board? Flash: model bytes + the board's flash reserve
<= flash; RAM: tensor arena + the board's RAM reserve <= the RAM the arena can use."""

from __future__ import annotations

from dataclasses import dataclass

from advisor.boards import Board


@dataclass(frozen=True)
class BoardFit:
    board_id: str
    fits: bool
    flash_margin_bytes: int  # flash budget left after the model; negative when it overflows
    ram_margin_bytes: int  # arena budget left after the arena; negative when it overflows

    def to_dict(self) -> dict:
        return {
            "id": self.board_id,
            "fits": self.fits,
            "flash_margin_bytes": self.flash_margin_bytes,
            "ram_margin_bytes": self.ram_margin_bytes,
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
        return out


def judge(board: Board, model_bytes: int, arena_bytes: int) -> BoardFit:
    flash_margin = board.flash_budget_bytes - model_bytes
    ram_margin = board.ram_budget_bytes - arena_bytes
    return BoardFit(board.id, flash_margin >= 0 and ram_margin >= 0, flash_margin, ram_margin)
