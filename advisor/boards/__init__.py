"""Board profiles: flash, RAM, clock and int8 throughput budgets of a target board.

One TOML file per board lies beside this module; users add theirs in
`$XDG_CONFIG_HOME/mcu-advisor/boards/` or pass one with `--board-file`.
"""

from advisor.boards.profile import Board, board_from_toml
from advisor.boards.registry import list_boards, load_board, user_boards_dir
from advisor.boards.sizes import format_frequency, format_size, parse_frequency, parse_size

__all__ = [
    "Board",
    "board_from_toml",
    "format_frequency",
    "format_size",
    "list_boards",
    "load_board",
    "parse_frequency",
    "parse_size",
    "user_boards_dir",
]
