"""`advisor cost`: parameters, MACs, int8 peak RAM, tensor arena and flash of one PhiNet
(cost model)."""

from __future__ import annotations

import json
from typing import Any

import click

from advisor import provenance
from advisor.cli.options import json_option
from advisor.config import PhiNetConfig
from advisor.cost.model import ARENA_SOURCE
from advisor.errors import AdvisorError

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


def _print_tables(report, per_layer: bool) -> None:
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
    for row in rows:
        table.add_row(*row)
    console = Console()
    console.print(table)
    if per_layer:
        layers = Table(
            title="per op of the int8 graph", caption=f"all figures: {provenance.COST_MODEL}"
        )
        for column in ("op", "name", "input HxWxC", "output HxWxC", "params", "MACs", "live bytes"):
            numeric = column in ("params", "MACs", "live bytes")
            layers.add_column(
                column, justify="right" if numeric else "left", overflow="fold", no_wrap=numeric
            )
        for layer in report.layers:
            layers.add_row(
                layer.op,
                layer.name,
                "x".join(map(str, layer.input_shape)),
                "x".join(map(str, layer.output_shape)),
                f"{layer.params:,}",
                f"{layer.macs:,}",
                f"{layer.live_bytes:,}",
                style="bold" if layer is peak else None,
            )
        console.print(layers)


@click.command()
@click.option("--alpha", type=float, help="Width factor.")
@click.option("--beta", type=float, help="Shape factor.")
@click.option("--t0", type=float, help="Base expansion factor.")
@click.option("--layers", type=int, help="Number of blocks N.")
@click.option("--resolution", type=int, help="Input side in pixels (default 160).")
@click.option("--classes", type=int, help="Classifier outputs (default 10).")
@click.option("--channels", type=int, help="Input channels (default 3).")
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
    as_json,
) -> None:
    """Parameters, MACs, int8 peak RAM, tensor arena and flash of a PhiNet (cost model).

    Parameters and MACs agree exactly with micromind 0.2.1's PhiNet; the activation peak is
    the largest set of int8 tensors TFLite Micro keeps alive for one op; the tensor arena
    (activations plus TFLite Micro's persistent allocations) and flash are estimates
    calibrated on measured models.
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
    if as_json:
        data = report.to_dict()
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
        _print_tables(report, per_layer)
