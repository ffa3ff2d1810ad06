"""`advisor probe`: a linear probe on every block of a trained PhiNet, or of every model
of a sweep store (the study's linear-probe analysis, after Alain and Bengio, 2018)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor.cli.options import data_option, json_option
from advisor.errors import AdvisorError

# Kept equal to advisor.probe.logistic's defaults without importing torch for --help.
DEFAULT_EPOCHS = 500
DEFAULT_L2 = 1e-3


@click.command()
@click.argument("checkpoint", required=False, type=click.Path(path_type=Path))
@data_option(required=True, help="Labelled images: 'cifar10', an image folder or a .zip of one.")
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    help="A sweep store: probe every finished run that has a checkpoint.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the figure (PNG + SVG) and the JSON report.",
)
@json_option(help="Print JSON only, on stdout.")
@click.option(
    "--max-images",
    type=click.IntRange(min=10),
    default=2000,
    show_default=True,
    help="Images per split (train and held-out), a seeded random subset.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=DEFAULT_EPOCHS,
    show_default=True,
    help="Most full-batch L-BFGS iterations per probe, on the cached features.",
)
@click.option(
    "--l2",
    type=click.FloatRange(min=0),
    default=DEFAULT_L2,
    show_default=True,
    help="L2 penalty on the probe weights (features are standardized).",
)
@click.option(
    "--split",
    "eval_split",
    type=click.Choice(["test", "val"]),
    default="test",
    show_default=True,
    help="Held-out split the probes are scored on.",
)
@click.option("--batch-size", type=click.IntRange(min=1), default=128, show_default=True)
def probe(
    checkpoint: Path | None,
    data: str,
    store: Path | None,
    out: Path | None,
    as_json: bool,
    max_images: int,
    epochs: int,
    l2: float,
    eval_split: str,
    batch_size: int,
) -> None:
    """Linear probes on every block of a trained PhiNet: held-out loss and accuracy per block.

    Give a CHECKPOINT, or --store to probe every model of a sweep and relate the probe-loss
    curve's shape to accuracy and N.
    """
    if (checkpoint is None) == (store is None):
        raise AdvisorError("give either a CHECKPOINT or --store SWEEP.db (exactly one)")
    from advisor.probe.checkpoint import CheckpointProber

    prober = CheckpointProber(
        data,
        max_images=max_images,
        eval_split=eval_split,
        l2=l2,
        max_iter=epochs,
        batch_size=batch_size,
    )
    if checkpoint is not None:
        _probe_one(prober, checkpoint, out, as_json)
    else:
        _probe_store(prober, store, out, as_json)


def _probe_one(prober, checkpoint: Path, out: Path | None, as_json: bool) -> None:
    from rich.console import Console

    report = prober(checkpoint)
    data = report.to_dict()
    if data.get("same_data_as_training") is False:
        click.echo(
            f"warning: {checkpoint} was trained on other data than --data; its held-out "
            "split may hold training images",
            err=True,
        )
    files = _write_outputs(out, [(checkpoint.name, report)], data, "probe")
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    from advisor.probe.report import block_table

    console = Console()
    console.print(block_table(report, title=f"Linear probes: {checkpoint}"))
    _tell_files(files)


def _probe_store(prober, store: Path, out: Path | None, as_json: bool) -> None:
    from rich.console import Console

    from advisor.probe.sweep import probe_sweep

    err = Console(stderr=True)

    def progress(position: int, total: int, label: str) -> None:
        err.print(f"[{position + 1}/{total}] probing {label}", highlight=False)

    result = probe_sweep(store, prober, on_model=progress)
    data = result.to_dict()
    foreign = [m["run_id"] for m in result.models if m["same_data_as_training"] is False]
    if foreign:
        err.print(
            f"warning: {len(foreign)} models were trained on other data than --data; "
            "their held-out split may hold training images",
            highlight=False,
        )
    files = _write_outputs(out, result.reports, data, "probe_sweep") if result.reports else []
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    from advisor.probe.report import correlation_table, sweep_table

    console = Console()
    console.print(sweep_table(result))
    console.print(correlation_table(result))
    for skipped in result.skipped:
        err.print(f"skipped run {skipped['run_id']}: {skipped['reason']}", highlight=False)
    _tell_files(files)


def _write_outputs(out: Path | None, curves, data: dict, name: str) -> list[str]:
    """Write the figure and the JSON report into `out`; list the files in data["files"]."""
    if out is None:
        return []
    from advisor.atomic import write_text_atomic
    from advisor.probe.plot import save_probe_figure

    paths = save_probe_figure(curves, out, name)
    report_path = out / f"{name}.json"
    write_text_atomic(report_path, json.dumps(data, indent=2) + "\n")
    files = [str(path) for path in (*paths, report_path)]
    data["files"] = files
    return files


def _tell_files(files: list[str]) -> None:
    if files:
        click.echo("wrote " + ", ".join(files), err=True)
    else:
        click.echo(
            "pass --out DIR for the loss-vs-depth figure (PNG + SVG) and a JSON report", err=True
        )
