"""`advisor check MODEL.tflite --board ID`: measure a model in TFLite Micro, estimate its
latency on each board, and judge the boards."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor import provenance
from advisor.cli.boards import board_options, resolve_boards
from advisor.cli.options import json_option
from advisor.errors import AdvisorError, DoesNotFit


def measure_and_judge(model_path: str, boards: list, latency_ms: float | None = None) -> dict:
    """Model bytes, minimal TFLM arena, ops with their MACs and estimated latency, and the
    verdict for each board (flash, RAM, latency), as JSON data. `latency_ms` replaces the
    boards' latency budgets."""
    from advisor.export.firmware import firmware_arena_size
    from advisor.export.fit import judge_model
    from advisor.export.tflite_file import full_int8_problems, read_tflite
    from advisor.export.tflm import minimal_arena

    if latency_ms is not None and not (latency_ms > 0 and latency_ms < float("inf")):
        raise AdvisorError(
            f"--latency-ms must be a positive number of milliseconds, got {latency_ms!r}"
        )
    info = read_tflite(model_path)  # AdvisorError when missing or not a TFLite file
    arena = minimal_arena(Path(model_path).read_bytes())
    firmware_arena = firmware_arena_size(arena.arena_bytes)
    estimates, notes, fits = {}, {}, []
    for board in boards:
        fit, estimate, notes[board.id] = judge_model(
            board, info.size_bytes, arena.arena_bytes, info.operators, latency_ms
        )
        fits.append(fit)
        if estimate is not None:
            estimates[board.id] = estimate
    layers = [
        {
            "index": op.index,
            "op": op.op,
            "class": op.op_class,
            "output_shape": list(op.output_shape),
            "macs": op.macs,
            "live_bytes": op.live_bytes,
            "latency_ms": {
                board_id: round(estimate.ops[op.index].ms, 5)
                for board_id, estimate in estimates.items()
            },
        }
        for op in info.operators
    ]
    return {
        "model": str(model_path),
        "model_bytes": info.size_bytes,
        "arena_bytes": arena.arena_bytes,
        "firmware_arena_bytes": firmware_arena,
        "arena_head_bytes": arena.head_bytes,
        "arena_tail_bytes": arena.tail_bytes,
        "macs": info.macs,
        "ops": list(info.op_types),
        "layers": layers,
        "full_int8": not full_int8_problems(info),
        "boards": [{**fit.to_dict(), "latency_note": notes[fit.board_id]} for fit in fits],
        "sources": {
            "model_bytes": provenance.CONVERTER + " (size of the .tflite file)",
            "arena_bytes": provenance.TFLITE_MICRO + " (smallest arena it runs in, x86-64 host "
            "build: an upper bound for a 32-bit MCU)",
            "firmware_arena_bytes": provenance.TFLITE_MICRO + " + margin max(1 KiB, 5 %)",
            "ops": provenance.CONVERTER + " (the .tflite's operator list)",
            "macs": "counted from the .tflite's tensor shapes (CONV_2D, DEPTHWISE_CONV_2D, "
            "FULLY_CONNECTED)",
            "live_bytes": "the .tflite's activation tensors alive at each op (first write "
            "to last read)",
            "latency_ms": "per board: latency_source",
            "boards": provenance.BOARD_PROFILE + ": fits when model_bytes <= flash budget, "
            "arena_bytes <= RAM budget and the estimated latency <= the latency budget",
        },
    }


@click.command()
@click.argument("model", type=click.Path(dir_okay=False), metavar="MODEL.tflite")
@board_options(multiple=True)
@click.option(
    "--latency-ms",
    type=float,
    help="Latency budget in ms for every board (default: each board profile's).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    metavar="PATH.png|PATH.svg",
    help="Write a per-op bar chart (estimated time on the first board, MACs, live RAM).",
)
@json_option(help="JSON on stdout instead of a table.")
def check(
    model: str,
    board: tuple[str, ...],
    board_file: tuple[str, ...],
    all_boards: bool,
    engine: str | None,
    latency_ms: float | None,
    plot_path: str | None,
    as_json: bool,
) -> None:
    """Measure MODEL.tflite in the real TFLite Micro interpreter (model bytes, smallest
    tensor arena, ops), estimate its latency per board with the latency model (per op, for
    the board's core, engine and clock) and judge each board: flash budget >= model bytes,
    RAM budget >= arena and latency budget >= estimated latency. The budgets are the board's
    flash and RAM minus its reserves and its latency_ms (`advisor boards`).

    Exit codes: 0 fits every board, 1 does not fit some board (flash, RAM or latency),
    2 bad input (not a TFLite file, an op TFLite Micro lacks, unknown board or engine).
    Latency is not judged on a board whose core has no calibration (8-bit AVR)."""
    boards = resolve_boards(board, board_file, all_boards, engine)
    result = measure_and_judge(model, boards, latency_ms)
    if plot_path is not None:
        _plot(result, boards[0].id, plot_path)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_table(result, boards)
    failed = [_shortfall(b) for b in result["boards"] if not b["fits"]]
    if failed:
        raise DoesNotFit(
            f"{Path(model).name} does not fit "
            + "; ".join(failed)
            + ". Pick a smaller configuration (`advisor recommend --board ID`), "
            "a faster engine (--engine) or a board with more memory"
        )


def _plot(result: dict, board_id: str, path: str) -> None:
    from advisor.latency.plot import plot_ops

    layers = result["layers"]
    plot_ops(
        path,
        labels=[f"{layer['index']} {layer['op']}" for layer in layers],
        classes=[layer["class"] for layer in layers],
        latency_ms=[layer["latency_ms"].get(board_id) for layer in layers],
        macs=[layer["macs"] for layer in layers],
        live_bytes=[layer["live_bytes"] for layer in layers],
        title=f"{Path(result['model']).name} on {board_id}",
    )


def _shortfall(fit: dict) -> str:
    over = [
        f"{what} {-fit[key]:,} B over budget"
        for what, key in (("flash", "flash_margin_bytes"), ("RAM", "ram_margin_bytes"))
        if fit[key] < 0
    ]
    if fit["latency_margin_ms"] is not None and fit["latency_margin_ms"] < 0:
        over.append(
            f"estimated latency {fit['latency_ms']:,.1f} ms over the "
            f"{fit['latency_budget_ms']:g} ms budget with {fit['engine']}"
        )
    return f"{fit['id']} ({', '.join(over)})"


def _print_table(result: dict, boards: list) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not console.is_terminal:
        console.width = 200  # piped or captured: no reason to wrap cells at 80 columns
    console.print(
        f"[bold]{result['model']}[/bold]: {result['model_bytes']:,} B "
        f"[dim]({provenance.CONVERTER})[/dim], arena {result['arena_bytes']:,} B, "
        f"with margin {result['firmware_arena_bytes']:,} B "
        f"[dim]({provenance.TFLITE_MICRO})[/dim], {result['macs']:,} MACs"
    )
    console.print(
        f"ops: {', '.join(result['ops'])}"
        + ("" if result["full_int8"] else "  [yellow](not a full-int8 graph)[/yellow]")
    )
    table = Table(
        caption=f"budgets: {provenance.BOARD_PROFILE}; model and arena: measured; "
        "latency: estimated (sources below)"
    )
    columns = (
        "board",
        "flash budget",
        "flash margin",
        "RAM budget",
        "RAM margin",
        "engine",
        "latency",
        "latency budget",
        "fits",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in ("board", "engine") else "right")
    for board, fit in zip(boards, result["boards"]):
        table.add_row(
            board.id,
            f"{board.flash_budget_bytes:,}",
            f"{fit['flash_margin_bytes']:,}",
            f"{board.ram_budget_bytes:,}",
            f"{fit['ram_margin_bytes']:,}",
            fit["engine"],
            "n/a" if fit["latency_ms"] is None else f"{fit['latency_ms']:,.1f} ms",
            f"{fit['latency_budget_ms']:g} ms",
            "[green]yes[/green]" if fit["fits"] else "[red]no[/red]",
        )
    console.print(table)
    for fit in result["boards"]:
        if fit["latency_source"]:
            console.print(f"{fit['id']} latency: {fit['latency_source']}")
        if fit["latency_note"]:
            console.print(f"{fit['id']} latency: {fit['latency_note']}")
