"""`advisor cost`: parameters, MACs, int8 peak RAM, tensor arena and flash of one PhiNet
(cost model), and with --board its estimated latency (latency model)."""

from __future__ import annotations

import json
from typing import Any

import click

from advisor import provenance
from advisor.cli.boards import board_options, resolve_board
from advisor.cli.options import json_option
from advisor.config import PhiNetConfig
from advisor.cost.model import ARENA_SOURCE
from advisor.errors import AdvisorError
from advisor.validation import CHANNELS, CLASSES, MAX_LAYERS, RESOLUTION, Integer

FLASH_NOTE = (
    "estimate: int8 weights, int32 biases and quantization data, plus flatbuffer "
    "overhead fitted never-under to converted models (0-3 % over; "
    "advisor/cost/deployment.py)"
)
PEAK_RAM_NOTE = (
    "activation peak: the largest set of int8 tensors alive at once, equal to "
    "TFLite Micro's activation plan (the arena head) up to its 16-byte alignment"
)
ARENA_NOTE = (
    "estimate of TFLite Micro's whole tensor arena: the activation plan plus its "
    "persistent allocations (eval tensors, node structs, per-channel op data), "
    "calibrated never-under on arenas measured with the 64-bit host build of "
    "tflite-micro (0-4 % over; up to 9 % for tiny models); a 32-bit MCU needs less "
    "(advisor/cost/deployment.py)"
)

# option name -> PhiNetConfig field
_FIELDS = {
    "alpha": "alpha",
    "beta": "beta",
    "t0": "t0",
    "layers": "num_layers",
    "resolution": "resolution",
    "classes": "num_classes",
    "channels": "in_channels",
    "divisor": "divisor",
}


def _config(
    config_file: str | None, values: dict[str, Any], no_se: bool, no_hswish: bool
) -> PhiNetConfig:
    """--config FILE as the base, any option given on the command line on top."""
    data: dict[str, Any] = {}
    if config_file is not None:
        data = PhiNetConfig.from_json_file(config_file).to_dict()
    data.update({_FIELDS[name]: value for name, value in values.items() if value is not None})
    if no_se:
        data["squeeze_excite"] = False
    if no_hswish:
        data["h_swish"] = False
    missing = [
        f"--{name}" for name in ("alpha", "beta", "t0", "layers") if _FIELDS[name] not in data
    ]
    if missing:
        raise AdvisorError(
            f"missing {', '.join(missing)}: give them, or --config FILE.json "
            "with a PhiNet config (or a recommendation JSON)"
        )
    return PhiNetConfig.from_dict(data)


def _latency(report, board_id, board_file, engine):
    """The latency estimate of `report` on the board, or None without --board."""
    if board_id is None and board_file is None:
        if engine is not None:
            raise AdvisorError("--engine needs a board: add --board ID or --board-file PATH")
        return None
    from advisor.latency import estimate_ops

    board = resolve_board(board_id, board_file, engine)
    return board, estimate_ops(board.latency_model(), board.clock_hz, report.layers)


def _print_tables(report, per_layer: bool, latency=None) -> None:
    from rich.console import Console
    from rich.table import Table

    config = report.config
    title = (
        f"PhiNet alpha={config.alpha:g} beta={config.beta:g} t0={config.t0:g} "
        f"N={config.num_layers} at {config.resolution}x{config.resolution}x"
        f"{config.in_channels}, {config.num_classes} classes"
    )
    table = Table(title=title)
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("source")
    peak = report.peak_layer
    rows = [
        ("parameters (PyTorch count)", f"{report.params:,}", provenance.COST_MODEL),
        (
            "parameters, BatchNorm folded (int8 deployment)",
            f"{report.params_folded:,}",
            provenance.COST_MODEL,
        ),
        ("MACs (torchinfo convention)", f"{report.macs:,}", provenance.COST_MODEL),
        (
            f"activation peak, int8 (at {peak.name})",
            f"{report.peak_ram_bytes:,} B",
            f"{provenance.COST_MODEL} (= TFLite Micro's activation plan)",
        ),
        ("RAM: tensor arena (estimate)", f"~{report.arena_bytes:,} B", ARENA_SOURCE),
        (
            "flash, int8 .tflite (estimate)",
            f"~{report.flash_bytes:,} B",
            f"{provenance.COST_MODEL} (estimate)",
        ),
    ]
    if latency is not None:
        board, estimate = latency
        rows.append(
            (
                f"latency on {board.id} ({estimate.engine}, {board.clock_hz / 1e6:g} MHz)",
                f"{estimate.total_ms:,.1f} ms",
                estimate.source,
            )
        )
    for row in rows:
        table.add_row(*row)
    console = Console()
    console.print(table)
    if latency is not None:
        extrapolation = latency[0].latency_model().extrapolation
        for note in (extrapolation, latency[0].latency_note()):
            if note:
                console.print(f"latency: {note}")
    if per_layer:
        layers = Table(
            title="per op of the int8 graph", caption=f"all figures: {provenance.COST_MODEL}"
        )
        columns = ["op", "name", "input HxWxC", "output HxWxC", "params", "MACs", "live bytes"]
        if latency is not None:
            columns.append("est. ms")
        for column in columns:
            numeric = column in ("params", "MACs", "live bytes", "est. ms")
            layers.add_column(
                column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric
            )
        for index, layer in enumerate(report.layers):
            cells = [
                layer.op,
                layer.name,
                "x".join(map(str, layer.input_shape)),
                "x".join(map(str, layer.output_shape)),
                f"{layer.params:,}",
                f"{layer.macs:,}",
                f"{layer.live_bytes:,}",
            ]
            if latency is not None:
                cells.append(f"{latency[1].ops[index].ms:.3f}")
            layers.add_row(*cells, style="bold" if layer is peak else None)
        console.print(layers)


@click.command()
@click.option("--alpha", type=float, help="Width factor.")
@click.option("--beta", type=float, help="Shape factor.")
@click.option("--t0", type=float, help="Base expansion factor.")
@click.option("--layers", type=Integer(1, MAX_LAYERS), help="Number of blocks N.")
@click.option("--resolution", type=RESOLUTION, help="Input side in pixels (default 160).")
@click.option("--classes", type=CLASSES, help="Classifier outputs (default 10).")
@click.option("--channels", type=CHANNELS, help="Input channels (default 3).")
@click.option("--divisor", type=int, help="Channel rounding divisor (default 1).")
@click.option("--no-se", is_flag=True, help="Without squeeze-excite.")
@click.option("--no-hswish", is_flag=True, help="ReLU6 instead of h-swish.")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    metavar="JSON_FILE",
    help="A PhiNet config or recommendation JSON; options above override it.",
)
@click.option("--per-layer", is_flag=True, help="Also every op of the int8 graph.")
@board_options
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False),
    metavar="PATH.png|PATH.svg",
    help="Write a per-op bar chart (estimated time with --board, MACs, live RAM).",
)
@json_option(help="JSON on stdout instead of tables.")
def cost(
    alpha,
    beta,
    t0,
    layers,
    resolution,
    classes,
    channels,
    divisor,
    no_se,
    no_hswish,
    config_file,
    per_layer,
    board,
    board_file,
    engine,
    plot_path,
    as_json,
) -> None:
    """Parameters, MACs, int8 peak RAM, tensor arena and flash of a PhiNet (cost model).

    Parameters and MACs agree exactly with micromind 0.2.1's PhiNet; the activation peak is
    the largest set of int8 tensors TFLite Micro keeps alive for one op; the tensor arena
    (activations plus TFLite Micro's persistent allocations) and flash are estimates
    calibrated on measured models. With --board, also the latency the latency model
    estimates on the board's core, engine and clock (per op with --per-layer).
    """
    from advisor.cost import estimate

    values = dict(
        alpha=alpha,
        beta=beta,
        t0=t0,
        layers=layers,
        resolution=resolution,
        classes=classes,
        channels=channels,
        divisor=divisor,
    )
    report = estimate(_config(config_file, values, no_se, no_hswish))
    latency = _latency(report, board, board_file, engine)
    if plot_path is not None:
        from advisor.latency.plot import plot_ops

        config = report.config
        plot_ops(
            plot_path,
            labels=[layer.name for layer in report.layers],
            classes=[layer.op_class for layer in report.layers],
            latency_ms=[None] * len(report.layers)
            if latency is None
            else [op.ms for op in latency[1].ops],
            macs=[layer.macs for layer in report.layers],
            live_bytes=[layer.live_bytes for layer in report.layers],
            title=f"PhiNet alpha={config.alpha:g} beta={config.beta:g} t0={config.t0:g} "
            f"N={config.num_layers} {config.resolution}px"
            + ("" if latency is None else f" on {latency[0].id}"),
        )
    if as_json:
        data = report.to_dict()
        if latency is not None:
            board_used, estimate_ = latency
            data["latency"] = {
                "board": board_used.id,
                **estimate_.to_dict(per_op=per_layer),
                "extrapolation": board_used.latency_model().extrapolation,
                "note": board_used.latency_note(),
            }
        if not per_layer:
            del data["layers"]
        data["notes"] = {
            "peak_ram_bytes": PEAK_RAM_NOTE,
            "arena_bytes": ARENA_NOTE,
            "flash_bytes": FLASH_NOTE,
        }
        data["sources"] = {
            "peak_ram_bytes": provenance.COST_MODEL,
            "arena_bytes": ARENA_SOURCE,
            "flash_bytes": f"{provenance.COST_MODEL} (estimate)",
        }
        click.echo(json.dumps(data, indent=2))
    else:
        _print_tables(report, per_layer, latency)
