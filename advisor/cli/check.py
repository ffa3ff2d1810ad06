"""`advisor check MODEL.tflite --board ID`: measure a model in TFLite Micro and judge boards."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor import provenance
from advisor.cli.boards import board_options, resolve_boards
from advisor.cli.options import json_option
from advisor.errors import DoesNotFit


def measure_and_judge(model_path: str, boards: list) -> dict:
    """Model bytes, minimal TFLM arena, ops, and the verdict for each board, as JSON data."""
    from advisor.export.firmware import firmware_arena_size
    from advisor.export.fit import judge
    from advisor.export.tflite_file import full_int8_problems, read_tflite
    from advisor.export.tflm import minimal_arena

    info = read_tflite(model_path)  # AdvisorError when missing or not a TFLite file
    arena = minimal_arena(Path(model_path).read_bytes())
    firmware_arena = firmware_arena_size(arena.arena_bytes)
    fits = [judge(board, info.size_bytes, arena.arena_bytes) for board in boards]
    return {
        "model": str(model_path),
        "model_bytes": info.size_bytes,
        "arena_bytes": arena.arena_bytes,
        "firmware_arena_bytes": firmware_arena,
        "arena_head_bytes": arena.head_bytes,
        "arena_tail_bytes": arena.tail_bytes,
        "ops": list(info.op_types),
        "full_int8": not full_int8_problems(info),
        "boards": [fit.to_dict() for fit in fits],
        "sources": {
            "model_bytes": provenance.CONVERTER + " (size of the .tflite file)",
            "arena_bytes": provenance.TFLITE_MICRO + " (smallest arena it runs in, x86-64 host "
            "build: an upper bound for a 32-bit MCU)",
            "firmware_arena_bytes": provenance.TFLITE_MICRO + " + margin max(1 KiB, 5 %)",
            "ops": provenance.CONVERTER + " (the .tflite's operator list)",
            "boards": provenance.BOARD_PROFILE + ": fits when model_bytes <= flash budget and "
            "arena_bytes <= RAM budget",
        },
    }


@click.command()
@click.argument("model", type=click.Path(dir_okay=False), metavar="MODEL.tflite")
@board_options(multiple=True)
@json_option(help="JSON on stdout instead of a table.")
def check(
    model: str, board: tuple[str, ...], board_file: tuple[str, ...], all_boards: bool, as_json: bool
) -> None:
    """Measure MODEL.tflite in the real TFLite Micro interpreter (model bytes, smallest
    tensor arena, ops) and judge each board: flash budget >= model bytes and RAM budget >=
    arena. The budgets are the board's flash and RAM minus its reserves (`advisor boards`).

    Exit codes: 0 fits every board, 1 does not fit some board, 2 bad input (not a TFLite
    file, an op TFLite Micro lacks, unknown board)."""
    boards = resolve_boards(board, board_file, all_boards)
    result = measure_and_judge(model, boards)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_table(result, boards)
    failed = [_shortfall(b) for b in result["boards"] if not b["fits"]]
    if failed:
        raise DoesNotFit(
            f"{Path(model).name} does not fit "
            + "; ".join(failed)
            + ". Pick a smaller configuration (`advisor recommend --board ID`) "
            "or a board with more memory"
        )


def _shortfall(fit: dict) -> str:
    over = [
        f"{what} {-fit[key]:,} B over budget"
        for what, key in (("flash", "flash_margin_bytes"), ("RAM", "ram_margin_bytes"))
        if fit[key] < 0
    ]
    return f"{fit['id']} ({', '.join(over)})"


def _print_table(result: dict, boards: list) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    console.print(
        f"[bold]{result['model']}[/bold]: {result['model_bytes']:,} B "
        f"[dim]({provenance.CONVERTER})[/dim], arena {result['arena_bytes']:,} B, "
        f"with margin {result['firmware_arena_bytes']:,} B "
        f"[dim]({provenance.TFLITE_MICRO})[/dim]"
    )
    console.print(
        f"ops: {', '.join(result['ops'])}"
        + ("" if result["full_int8"] else "  [yellow](not a full-int8 graph)[/yellow]")
    )
    table = Table(caption=f"budgets: {provenance.BOARD_PROFILE}; model and arena: measured")
    for column in ("board", "flash budget", "flash margin", "RAM budget", "RAM margin", "fits"):
        table.add_column(column, justify="left" if column == "board" else "right")
    for board, fit in zip(boards, result["boards"]):
        table.add_row(
            board.id,
            f"{board.flash_budget_bytes:,}",
            f"{fit['flash_margin_bytes']:,}",
            f"{board.ram_budget_bytes:,}",
            f"{fit['ram_margin_bytes']:,}",
            "[green]yes[/green]" if fit["fits"] else "[red]no[/red]",
        )
    console.print(table)
