"""Where board profiles come from: the built-in TOML files beside this module, then the
user folder `$XDG_CONFIG_HOME/mcu-advisor/boards/` (default `~/.config/mcu-advisor/boards/`).

A user profile whose id (or alias) equals a built-in one replaces it, as a local board
manifest overrides a platform's in PlatformIO; a warning on stderr says which file wins.
"""

from __future__ import annotations

import difflib
import os
import sys
from pathlib import Path

from advisor.boards.profile import Board, board_from_toml
from advisor.errors import AdvisorError

BUILTIN_DIR = Path(__file__).resolve().parent
_warned: set[str] = set()  # warn about each shadowing user file once per process


def user_boards_dir() -> Path:
    config_home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return Path(config_home) / "mcu-advisor" / "boards"


def list_boards(include_user: bool = True) -> list[Board]:
    """Built-in profiles, then the user folder's (which win on a shared id), sorted by id."""
    boards = {board.id: board for board in _load_folder(BUILTIN_DIR)}
    if include_user:
        user_boards = _load_folder(user_boards_dir())
        _check_unique(user_boards)
        for board in user_boards:
            shadowed = _find(boards, board.id)
            if shadowed is not None:
                _warn(
                    f"warning: user board {board.path} (id {board.id!r}) overrides the "
                    f"built-in {shadowed.id!r} from {shadowed.path}; the user file wins"
                )
                del boards[shadowed.id]
            boards[board.id] = board
    return sorted(boards.values(), key=lambda board: board.id)


def load_board(board_id: str | None = None, board_file: str | os.PathLike | None = None) -> Board:
    """The board named `board_id` (an id or an alias, case-insensitive) or the one in
    `board_file`; exactly one of the two."""
    if (board_id is None) == (board_file is None):
        raise AdvisorError(
            "give exactly one of a board id (--board) and a board file (--board-file)"
        )
    if board_id is None:
        assert board_file is not None  # exactly one of the two, checked above
        return board_from_toml(board_file)
    boards = {board.id: board for board in list_boards()}
    board = _find(boards, board_id)
    if board is None:
        raise AdvisorError(_unknown_board_message(board_id, boards))
    return board


def _load_folder(folder: Path) -> list[Board]:
    if not folder.is_dir():
        return []
    return [board_from_toml(path) for path in sorted(folder.glob("*.toml"))]


def _check_unique(user_boards: list[Board]) -> None:
    first_path: dict[str, str | None] = {}
    for board in user_boards:
        if board.id in first_path:
            raise AdvisorError(
                f"user boards {first_path[board.id]} and {board.path} share the id "
                f"{board.id!r}: rename one of them"
            )
        first_path[board.id] = board.path


def _find(boards: dict[str, Board], name: str) -> Board | None:
    wanted = name.strip().lower()
    for board in boards.values():
        if wanted == board.id.lower() or wanted in (alias.lower() for alias in board.aliases):
            return board
    return None


def _unknown_board_message(name: str, boards: dict[str, Board]) -> str:
    names = {board.id: board.id for board in boards.values()}
    names.update({alias.lower(): board.id for board in boards.values() for alias in board.aliases})
    close = difflib.get_close_matches(name.strip().lower(), names, n=5, cutoff=0.5)
    suggestion = list(dict.fromkeys(names[match] for match in close))
    hint = f"did you mean {', '.join(suggestion)}? " if suggestion else ""
    return (
        f"unknown board {name!r}: {hint}`advisor boards` lists the ids; "
        f"or pass your own profile with --board-file PATH.toml"
    )


def _warn(message: str) -> None:
    if message not in _warned:
        _warned.add(message)
        print(message, file=sys.stderr)
