"""`advisor boards`: list and show board profiles; and the `--board` / `--board-file`
options every command that targets a board shares (`board_options`, `resolve_board`,
`resolve_boards`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

import click

from advisor import provenance
from advisor.boards import Board, format_frequency, format_size, list_boards, load_board
from advisor.cli.options import json_option
from advisor.errors import AdvisorError


def board_options(function: Callable | None = None, *, multiple: bool = False) -> Callable:
    """Add `--board ID`, `--board-file PATH.toml` and `--engine ID` to a click command; with
    `multiple=True` the first two repeat (parameters `board` and `board_file` become tuples)
    and `--all-boards` is added. Turn the values into boards with `resolve_board` /
    `resolve_boards`."""

    def decorate(command: Callable) -> Callable:
        command = click.option(
            "--engine",
            "engine",
            metavar="ID",
            help="Inference engine the latency is estimated for, instead of the board's "
            "(tflm-reference, tflm-cmsis-nn, tflm-esp-nn, x-cube-ai, xnnpack; "
            "`advisor boards show ID` names the board's).",
        )(command)
        if multiple:
            command = click.option(
                "--all-boards", is_flag=True, help="Every profile, built-in and user."
            )(command)
        command = click.option(
            "--board-file",
            "board_file",
            multiple=multiple,
            type=click.Path(dir_okay=False),
            metavar="PATH.toml",
            help="A board profile file of your own (same fields as `advisor boards show ID`)."
            + (" Repeatable." if multiple else ""),
        )(command)
        return click.option(
            "--board",
            "board",
            multiple=multiple,
            metavar="ID",
            help="Board id or alias (`advisor boards` lists them)."
            + (" Repeatable." if multiple else ""),
        )(command)

    return decorate(function) if function is not None else decorate


def resolve_board(board_id: str | None, board_file: str | None, engine: str | None = None) -> Board:
    """The one board a command targets, from `--board` or `--board-file`, its engine
    replaced by `--engine` when given."""
    if board_id is None and board_file is None:
        raise AdvisorError(
            "no board given: pass --board ID (see `advisor boards`) or --board-file PATH.toml"
        )
    if board_id is not None and board_file is not None:
        raise AdvisorError("give either --board or --board-file, not both")
    return with_engine(load_board(board_id=board_id, board_file=board_file), engine)


def with_engine(board: Board, engine: str | None) -> Board:
    """`board` with its engine replaced by `engine` (validated), or as it is for None."""
    if engine is None:
        return board
    from advisor.latency import known_engines

    if engine not in known_engines():
        raise AdvisorError(
            f"--engine {engine!r} is not a known inference engine: use one of "
            f"{', '.join(known_engines())}"
        )
    return board.with_overrides(engine=engine)


def resolve_boards(
    board_ids: Sequence[str],
    board_files: Sequence[str],
    all_boards: bool = False,
    engine: str | None = None,
) -> list[Board]:
    """The boards a multi-board command targets, in the order given, without repeats, their
    engine replaced by `engine` when given."""
    if all_boards:
        chosen = list_boards()
    elif not board_ids and not board_files:
        raise AdvisorError(
            "no board given: pass --board ID (repeatable), --board-file PATH.toml or --all-boards"
        )
    else:
        chosen = [load_board(board_id=board_id) for board_id in board_ids]
    chosen += [load_board(board_file=board_file) for board_file in board_files]
    unique: dict[tuple[str, str | None], Board] = {}
    for board in chosen:
        unique.setdefault((board.id, board.path), board)
    return [with_engine(board, engine) for board in unique.values()]


def board_json(board: Board) -> dict:
    """A board as the JSON every command prints: its fields, budgets and provenance."""
    return {**board.to_dict(), "source": provenance.BOARD_PROFILE}


@click.group(invoke_without_command=True)
@json_option(help="JSON on stdout instead of a table.")
@click.pass_context
def boards(ctx: click.Context, as_json: bool) -> None:
    """List board profiles: flash, RAM for the tensor arena, reserves, engine and latency budget.

    Built-in profiles plus those in $XDG_CONFIG_HOME/mcu-advisor/boards/*.toml (a user
    profile with a built-in's id wins). Sizes: 1 KiB = 1024 bytes.
    """
    if ctx.invoked_subcommand is not None:
        return
    all_boards = list_boards()
    if as_json:
        click.echo(json.dumps([board_json(board) for board in all_boards], indent=2))
    else:
        _print_table(all_boards)


@boards.command()
@click.argument("board_id", required=False, metavar="ID")
@click.option(
    "--board-file",
    type=click.Path(dir_okay=False),
    metavar="PATH.toml",
    help="Show this profile file instead of a named board.",
)
@json_option(help="JSON on stdout instead of a table.")
def show(board_id: str | None, board_file: str | None, as_json: bool) -> None:
    """Every field of one board profile, with its sources."""
    board = resolve_board(board_id, board_file)
    if as_json:
        click.echo(json.dumps(board_json(board), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"{board.name} ({board.id})",
        show_header=False,
        caption=f"source: {provenance.BOARD_PROFILE} {board.path}",
    )
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for name, value in _described_fields(board):
        table.add_row(name, value)
    Console().print(table)


def _described_fields(board: Board) -> list[tuple[str, str]]:
    def size(num_bytes: int) -> str:
        return f"{format_size(num_bytes)} ({num_bytes:,} B)"

    return [
        ("aliases", ", ".join(board.aliases) or "-"),
        ("chip", board.chip),
        ("core", board.core),
        ("clock", format_frequency(board.clock_hz)),
        ("flash", size(board.flash_bytes)),
        ("reserved flash (assumed)", _assumed_reserve_text(board, size)),
        (
            "reserved flash, runtime measured",
            f"{size(board.reserved_hal_flash_bytes)}: HAL + application, added to the "
            "measured runtime and to the firmware image measured by --emulate",
        ),
        ("flash reserve used", _reserve_text(board, size)),
        ("flash for the model", f"{size(board.flash_budget_bytes)}: flash - flash reserve used"),
        ("RAM (largest block)", size(board.ram_bytes)),
        ("RAM total", size(board.ram_total_bytes)),
        ("reserved RAM", size(board.reserved_ram_bytes)),
        ("RAM for the arena", size(board.ram_budget_bytes)),
        ("runtime", board.runtime),
        ("inference engine", board.engine),
        ("latency model", _latency_model_text(board)),
        ("latency budget", f"{board.latency_ms:g} ms"),
        ("notes", board.notes or "-"),
        ("sources", "\n".join(board.sources) or "-"),
    ]


def _assumed_reserve_text(board: Board, size) -> str:
    text = f"{size(board.reserved_flash_bytes)}: runtime + HAL + application"
    if board.flash_reserve().measured:
        return text + ", not used: the runtime of this core and engine is measured"
    return text


def _reserve_text(board: Board, size) -> str:
    reserve = board.flash_reserve()
    if not reserve.measured:
        return f"{size(reserve.reserve_bytes)}, {reserve.source} ({reserve.unmeasured})"
    return (
        f"{size(reserve.reserve_bytes)} = runtime {size(reserve.runtime_bytes)} "
        f"({reserve.runtime_kernels} kernels; {reserve.source}) + HAL and application "
        f"{size(reserve.hal_bytes)} ({provenance.ASSUMED})"
    )


def _latency_model_text(board: Board) -> str:
    try:
        model = board.latency_model()
    except AdvisorError as err:
        return f"unavailable: {err}"
    notes = [model.source, model.extrapolation, board.latency_note()]
    return "; ".join(note for note in notes if note)


def _throughput(board: Board) -> str:
    """Cycles per MAC of a 1x1 convolution on the board's engine, or n/a."""
    try:
        model = board.latency_model()
    except AdvisorError:
        return "n/a"
    from advisor.latency import CLASSES

    return f"{1 / model.cycles_per_unit[CLASSES.index('conv_1x1')]:.2f}"


def _print_table(all_boards: list[Board]) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped or captured: no reason to wrap cells at 80 columns
    show_name = console.width >= 150
    table = Table(
        caption=f"Sizes, clock, budgets: {provenance.BOARD_PROFILE} (`advisor boards show ID` "
        "for sources). Flash reserve: runtime + HAL and application; (measured): the runtime "
        f"is {provenance.LINKED_IMAGE}, (assumed): the profile's reserve. 1 KiB = 1024 B. Arena = largest contiguous RAM block. "
        "MACs/cycle: estimated by the latency model (per engine; `advisor boards show ID`)."
    )
    headers = (
        "id",
        "name",
        "core",
        "clock",
        "flash",
        "flash reserve",
        "RAM arena",
        "RAM reserve",
        "engine",
        "1x1 conv MACs/cycle",
        "latency budget",
    )
    for header in headers:
        if header == "name" and not show_name:
            continue
        justify = "left" if header in ("id", "name", "core") else "right"
        table.add_column(header, justify=justify, no_wrap=header == "id")
    for board in all_boards:
        row = [
            board.id + ("" if _is_builtin(board) else " (user)"),
            board.name,
            board.core,
            format_frequency(board.clock_hz),
            format_size(board.flash_bytes),
            format_size(board.flash_reserve().reserve_bytes)
            + (" (measured)" if board.flash_reserve().measured else " (assumed)"),
            format_size(board.ram_bytes),
            format_size(board.reserved_ram_bytes),
            board.engine,
            _throughput(board),
            f"{board.latency_ms:g} ms",
        ]
        table.add_row(*(row if show_name else row[:1] + row[2:]))
    console.print(table)


def _is_builtin(board: Board) -> bool:
    from advisor.boards.registry import BUILTIN_DIR

    return board.path is not None and str(BUILTIN_DIR) in board.path
