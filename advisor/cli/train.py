"""`advisor train`: train a PhiNet on CIFAR or an image folder with the study's recipe."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor import provenance
from advisor.cli.options import (
    cache_dir_option,
    data_dir_option,
    data_option,
    device_option,
    json_option,
    seed_option,
    threads_option,
)
from advisor.errors import AdvisorError
from advisor.files import read_json_object
from advisor.training.recipe import OPTIMIZERS, SPLITS, STUDY_EPOCHS, STUDY_WARMUP_EPOCHS
from advisor.validation import RESOLUTION

ARCHITECTURE_FLAGS = {"alpha": "--alpha", "beta": "--beta", "t0": "--t0", "num_layers": "--layers"}


@click.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    metavar="JSON",
    help="A PhiNet config or an `advisor recommend --json` output.",
)
@click.option("--alpha", type=float, help="Width factor (instead of --config).")
@click.option("--beta", type=float, help="Shape factor.")
@click.option("--t0", type=float, help="Base expansion factor.")
@click.option("--layers", "num_layers", type=int, help="Number of blocks N.")
@data_option(
    help="cifar10, cifar100, an image folder (root/<split>/<class>/*.jpg) or a .zip of "
    "one. With --resume, defaults to the run's data."
)
@data_dir_option()
@click.option(
    "--no-download", is_flag=True, help="Never download CIFAR; fail if it is not in --data-dir."
)
@cache_dir_option()
@click.option(
    "--split",
    type=click.Choice(SPLITS),
    help="70/15/15 (the study's) or the data set's test split plus a validation split from train.",
)
@click.option("--val-fraction", type=float, help="Validation share of train with --split test+val.")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help=f"All epochs, warm-up included (study: {STUDY_EPOCHS}).",
)
@click.option(
    "--warmup-epochs",
    type=click.IntRange(min=0),
    help=f"Linear warm-up epochs (default: the study's {STUDY_WARMUP_EPOCHS} of {STUDY_EPOCHS}, "
    f"in proportion to --epochs).",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Default 64 (micromind's CIFAR recipe; the study does not state one).",
)
@click.option("--lr", type=float, help="Peak learning rate (study: 0.01).")
@click.option(
    "--weight-decay",
    type=float,
    help="On conv and linear weights; default 0.02 (micromind's; the study gives none).",
)
@click.option("--optimizer", type=click.Choice(OPTIMIZERS), help="Default lamb.")
@click.option(
    "--resolution",
    type=RESOLUTION,
    help="Training resolution (default: the config's, else the study's 160).",
)
@seed_option(help="Seeds the split, initialisation, order and augmentation.")
@click.option("--no-augment", is_flag=True, help="No flips, rotations or zoom.")
@device_option()
@threads_option()
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Run directory: config, recipe, metrics.jsonl, checkpoints.",
)
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@json_option(help="The result as JSON on stdout.")
def train(
    config_path,
    alpha,
    beta,
    t0,
    num_layers,
    data,
    data_dir,
    no_download,
    cache_dir,
    split,
    val_fraction,
    epochs,
    warmup_epochs,
    batch_size,
    lr,
    weight_decay,
    optimizer,
    resolution,
    seed,
    no_augment,
    device,
    threads,
    out_dir,
    resume,
    as_json,
) -> None:
    """Train a PhiNet with the study's recipe (Lamb, lr 0.01, warm-up then cosine decay,
    flips / rotations / zoom), keeping the best model by validation accuracy.

    \b
    advisor train --alpha 0.25 --beta 1 --t0 6 --layers 7 --data cifar10 --epochs 110 --out runs/a
    advisor train --config rec.json --data images.zip --epochs 30 --resolution 96 --out runs/b
    advisor train --out runs/a --resume
    """
    from advisor.build import adapt_config
    from advisor.cache import user_cache_dir
    from advisor.training.data import load_dataset
    from advisor.training.session import resolve_device, set_threads
    from advisor.training.trainer import train as run_training

    out = Path(out_dir)
    if (out / "last.pt").exists() and not resume:
        raise AdvisorError(
            f"{out} already holds a training run (last.pt); pass --resume to "
            f"continue it, or choose another --out"
        )
    set_threads(threads)
    resolve_device(device)  # an unknown device fails before any data is read
    architecture = {"alpha": alpha, "beta": beta, "t0": t0, "num_layers": num_layers}
    config = _config(out, resume, config_path, architecture)
    settings = {
        "epochs": epochs,
        "warmup_epochs": warmup_epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "optimizer": optimizer,
        "resolution": resolution,
        "split": split,
        "val_fraction": val_fraction,
        "seed": seed,
    }
    if no_augment:
        settings.update(hflip=False, rotation_degrees=0.0, zoom=0.0)
    if resolution is None and config_path:
        settings["resolution"] = config.resolution
    recipe = _recipe(out, resume, settings)

    splits = load_dataset(
        _data_source(out, resume, data),
        recipe.resolution,
        recipe.split,
        recipe.seed,
        cache_dir=cache_dir or user_cache_dir(),
        val_fraction=recipe.val_fraction,
        data_dir=data_dir,
        download=not no_download,
        channels=config.in_channels,
        num_workers=recipe.num_workers,
    )
    click.echo(
        f"data: {splits.source}: {len(splits.train_labels)} train / "
        f"{len(splits.val_labels)} val / {len(splits.test_labels)} test images, "
        f"{splits.num_classes} classes, "
        f"{len(splits.skipped)} unreadable skipped, loaded in {splits.decode_seconds:.1f} s"
        f"{' (decode cache)' if splits.from_cache else ''}",
        err=True,
    )
    config, changed = adapt_config(config, recipe.resolution, splits.num_classes)
    if changed and config_path:
        click.echo(f"note: training {config_path}: {changed[0]}", err=True)

    try:
        result = run_training(
            config, splits, out, recipe, resume=resume, device=device, progress=True
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: the run is saved in {out / 'last.pt'}; continue it with "
            f"`advisor train --out {out} --resume`",
            err=True,
        )
        raise SystemExit(130) from None  # not ctx.exit: main() drops its status

    if as_json:
        sources_of = {
            "best_val_accuracy": provenance.TRAINING,
            "test_accuracy": provenance.TRAINING,
            "params": "counted: trained model",
        }
        click.echo(json.dumps({**result.to_dict(), "sources": sources_of}, indent=2))
        return
    _print_summary(result)


def _config(out: Path, resume: bool, config_path: str | None, architecture: dict):
    """The PhiNet to train: --config, or all four architecture flags, or the resumed run's."""
    from advisor.config import PhiNetConfig

    given = {key: value for key, value in architecture.items() if value is not None}
    if config_path and given:
        raise AdvisorError(
            f"give either --config or --alpha/--beta/--t0/--layers, not both "
            f"(got --config and {sorted(given)})"
        )
    if resume and (out / "config.json").is_file() and not config_path and not given:
        return PhiNetConfig.from_json_file(out / "config.json")
    if config_path:
        return PhiNetConfig.from_json_file(config_path)
    if len(given) == len(ARCHITECTURE_FLAGS):
        return PhiNetConfig(**given)
    missing = [flag for key, flag in ARCHITECTURE_FLAGS.items() if key not in given]
    raise AdvisorError(
        f"no PhiNet given: pass --config JSON or all of --alpha --beta --t0 "
        f"--layers (missing {' '.join(missing)})"
    )


def _recipe(out: Path, resume: bool, settings: dict):
    """The study's recipe (``Recipe.study``: the warm-up follows --epochs) with the given
    settings; when resuming, the run's own recipe with them."""
    from advisor.training.recipe import Recipe

    given = {key: value for key, value in settings.items() if value is not None}
    if resume and (out / "recipe.json").is_file():
        saved = read_json_object(out / "recipe.json", "the run's recipe file")
        return Recipe.from_dict({**saved, **given})
    return Recipe.study(**given)


def _data_source(out: Path, resume: bool, data: str | None) -> str:
    if data is not None:
        return data
    if not (resume and (out / "data.json").is_file()):
        raise AdvisorError("no data given: pass --data cifar10|cifar100|FOLDER|ZIP")
    source = read_json_object(out / "data.json", "the run's data file").get("source")
    if not isinstance(source, str):
        raise AdvisorError(
            f"{out / 'data.json'} names no data source: pass --data cifar10|FOLDER|ZIP"
        )
    return source


def _print_summary(result) -> None:
    from rich.console import Console
    from rich.table import Table

    def percent(value):
        return "-" if value is None else f"{100 * value:.2f} %"

    table = Table(
        title=f"trained PhiNet alpha {result.config.alpha} beta {result.config.beta} "
        f"t0 {result.config.t0} N {result.config.num_layers} "
        f"at {result.config.resolution}x{result.config.resolution}"
    )
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("source")
    rows = [
        ("test accuracy (best checkpoint)", percent(result.test_accuracy), provenance.TRAINING),
        (
            f"best validation accuracy (epoch {result.best_epoch})",
            percent(result.best_val_accuracy),
            provenance.TRAINING,
        ),
        ("epochs", f"{result.epochs_completed} / {result.recipe.epochs}", "run"),
        ("parameters", f"{result.params:,}", "counted: trained model"),
        ("wall time", f"{result.seconds:,.0f} s", "run"),
        ("training speed", f"{result.images_per_second:,.0f} images/s on {result.device}", "run"),
        ("best checkpoint", str(result.checkpoint), ""),
        ("metrics", str(result.metrics_path), ""),
    ]
    for row in rows:
        table.add_row(*row)
    Console().print(table)
