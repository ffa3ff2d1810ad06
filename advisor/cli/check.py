"""`advisor check MODEL.tflite --board ID`: measure a model in TFLite Micro, estimate its
latency on each board, and judge the boards."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor import provenance
from advisor.cli.boards import board_options, resolve_boards
from advisor.cli.options import emulate_images_option, json_option, tflm_dir_option
from advisor.errors import CheckFailed, DoesNotFit


@click.command()
@click.argument("model", type=click.Path(dir_okay=False), metavar="MODEL.tflite")
@board_options(multiple=True)
@click.option(
    "--emulate",
    is_flag=True,
    help="Also build the firmware with TFLite Micro for each board's core and run it under "
    "QEMU: 32-bit arena, outputs vs the host, linked flash/RAM, instructions per inference.",
)
@click.option(
    "--kernels",
    type=click.Choice(["ref", "cmsis_nn"]),
    help="Kernel set for --emulate (default: the board profile's runtime).",
)
@emulate_images_option(default=8, help="Images run under QEMU.")
@tflm_dir_option()
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
@click.option(
    "--allow-float",
    is_flag=True,
    help="Accept a model that is not full-int8 (for a board whose firmware runs float kernels).",
)
@json_option(help="JSON on stdout instead of a table.")
def check(
    model: str,
    board: tuple[str, ...],
    board_file: tuple[str, ...],
    all_boards: bool,
    emulate: bool,
    kernels: str | None,
    emulate_images: int,
    tflm_dir: str | None,
    engine: str | None,
    latency_ms: float | None,
    plot_path: str | None,
    allow_float: bool,
    as_json: bool,
) -> None:
    """Measure MODEL.tflite in the real TFLite Micro interpreter (model bytes, smallest
    tensor arena, ops), estimate its latency per board with the latency model (per op, for
    the board's core, engine and clock) and judge each board: flash budget >= model bytes,
    RAM budget >= arena and latency budget >= estimated latency. The budgets are the board's
    flash and RAM minus its reserves and its latency_ms (`advisor boards`).

    With --emulate the firmware (the generated main.cc with a QEMU port) is compiled with
    TFLite Micro for each board's Cortex-M core and run under qemu-system-arm; the linked
    image's flash (+ the board's HAL reserve) and RAM are judged instead of the assumed
    runtime reserve. Without the tree, compiler or QEMU that part is skipped, with the
    reason.

    A model that is not full-int8 (float tensors, QUANTIZE/DEQUANTIZE ops) fails the check:
    MCU kernels such as CMSIS-NN are int8; --allow-float accepts it for a board that runs float.

    Exit codes: 0 fits every board, 1 does not fit some board (flash, RAM or latency), is
    not full-int8 or runs differently on the emulated core than on the host, 2 bad input (not
    a TFLite file, an op TFLite Micro lacks, unknown board or engine).
    Latency is not judged on a board whose core has no calibration (8-bit AVR)."""
    from advisor.export.check import check_model, shortfalls

    boards = resolve_boards(board, board_file, all_boards, engine)
    result = check_model(
        model,
        boards,
        latency_ms,
        emulate=emulate,
        kernels=kernels,
        images=emulate_images,
        tflm_dir=tflm_dir,
    )
    if plot_path is not None:
        _plot(result, boards[0].id, plot_path)
    if as_json:
        click.echo(json.dumps(result, indent=2))
    else:
        _print_table(result, boards)
    if not result["full_int8"] and not allow_float:
        raise CheckFailed(
            f"{Path(model).name} is not a full-int8 model ("
            + "; ".join(result["full_int8_problems"][:3])
            + (", ..." if len(result["full_int8_problems"]) > 3 else "")
            + "): microcontroller kernels (CMSIS-NN, TFLite Micro's optimized ones) run int8. "
            "Convert it with full-integer quantization (a representative data set, int8 input "
            "and output; `advisor build` does), or pass --allow-float for a board that runs "
            "float models"
        )
    failed = shortfalls(result)
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
        caption=f"budgets: {provenance.BOARD_PROFILE}, flash minus the runtime "
        f"{provenance.LINKED_IMAGE} where the core and engine have one (`advisor boards "
        "show ID`); model and arena: measured; "
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
    for run in result["emulation"]:
        _print_emulation(console, run)


def _print_emulation(console, run: dict) -> None:
    if run["status"] != "ran":
        console.print(
            f"[yellow]emulation skipped[/yellow] ({run['core']}, {run['kernels']}): "
            f"{run['reason']}" + (f"; install: {run['install']}" if run["install"] else "")
        )
        return
    image, compared = run["image"], run["outputs_vs_host"]
    fit = run["board"]
    per = run["instructions_per_inference"]
    console.print(
        f"[bold]{run['core']} ({run['machine']}), {run['kernels']} kernels[/bold] "
        f"[dim]({image['source']}; arena and outputs: {run['arena_used_bytes']['source']})[/dim]"
    )
    console.print(
        f"  arena used {run['arena_used_bytes']['value']:,} B on the 32-bit target vs "
        f"{run['host_arena_bytes']['value']:,} B on the x86-64 host; outputs vs host: "
        f"{compared['equal_rate']:.0%} equal, {compared['within_one_step_rate']:.0%} within "
        f"one step over {compared['images']} images (expected: {compared['expected']})"
    )
    breakdown = ", ".join(f"{k} {v:,}" for k, v in image["flash_breakdown"].items())
    console.print(
        f"  image flash {image['flash_bytes']:,} B ({breakdown}); static RAM "
        f"{image['static_ram_bytes']:,} B (arena {image['arena_bytes']:,} B), stack "
        f"{run['stack_used_bytes']['value'] or 0:,} B"
    )
    if per["value"] is not None:
        console.print(f"  {per['value']:,} instructions per inference [dim]({per['source']})[/dim]")
    if fit:
        verdict = "[green]fits[/green]" if fit["fits"] else "[red]does not fit[/red]"
        console.print(
            f"  {fit['board_id']}: {verdict}: flash margin {fit['flash_margin_bytes']:,} B "
            f"(after {fit['hal_flash_reserve_bytes']:,} B HAL + application reserve; the "
            f"runtime is measured), RAM margin {fit['ram_margin_bytes']:,} B, arena block "
            f"margin {fit['arena_margin_bytes']:,} B"
        )
