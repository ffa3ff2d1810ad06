"""`advisor build`: recommend -> train -> quantize -> export -> verify -> bundle."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import click

from advisor import sources
from advisor.cli.boards import board_options, resolve_board
from advisor.errors import AdvisorError, DoesNotFit, NothingFits

STUDY_EPOCHS, STUDY_WARMUP = 110, 10


@click.command()
@board_options
@click.option(
    "--data",
    required=True,
    metavar="PATH_OR_NAME",
    help="cifar10, cifar100, an image folder (root/<split>/<class>/*.jpg) or a .zip of one.",
)
@click.option(
    "--epochs",
    type=int,
    default=STUDY_EPOCHS,
    show_default=True,
    help="All epochs, warm-up included (warm-up is 10/110 of them, as in the study).",
)
@click.option(
    "--out",
    "out_dir",
    default="build",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where the model, firmware and reports go.",
)
@click.option(
    "--resolution",
    type=int,
    help="Input side in pixels (default: the --config's, else 160 as in the study).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    metavar="JSON",
    help="Skip the recommendation: a PhiNet config or an `advisor recommend --json` output.",
)
@click.option(
    "--split",
    type=click.Choice(["70/15/15", "test+val"]),
    default="70/15/15",
    show_default=True,
    help="70/15/15 pools and re-splits (the study); test+val keeps the data set's test split.",
)
@click.option("--batch-size", type=int, help="Training batch size (study: 64).")
@click.option(
    "--calibration-images",
    type=int,
    default=500,
    show_default=True,
    help="Training images the int8 quantization is calibrated on.",
)
@click.option(
    "--verify-images",
    type=int,
    default=2000,
    show_default=True,
    help="Test images run in TFLite Micro for the int8 accuracy (0 = all).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seeds the split, training, and the calibration and test image picks.",
)
@click.option("--device", help="Training device: cpu, cuda ... (default: cuda when available).")
@click.option(
    "--threads",
    type=int,
    help="torch CPU threads (on a busy machine 1 is often "
    "fastest: competing intra-op threads spin against each other).",
)
@click.option("--cache-dir", type=click.Path(file_okay=False), help="Decoded-image cache.")
@click.option("--data-dir", type=click.Path(file_okay=False), help="Where CIFAR is read from.")
@click.option(
    "--emulate/--no-emulate",
    default=True,
    show_default=True,
    help="Build the firmware with TFLite Micro for the board's core and run it under QEMU "
    "(skipped, with the reason, when the tree, compiler or QEMU is missing).",
)
@click.option(
    "--emulate-images",
    type=int,
    default=16,
    show_default=True,
    help="Test images run on the emulated core.",
)
@click.option(
    "--tflm-dir",
    type=click.Path(file_okay=False),
    envvar="ADVISOR_TFLM_DIR",
    help="TFLite Micro tree for the emulated build (default: shared/third_party/tflite-micro "
    "beside the checkout; env ADVISOR_TFLM_DIR).",
)
@click.option("--resume", is_flag=True, help="Continue an interrupted training run in --out.")
@click.option("--json", "as_json", is_flag=True, help="The report as JSON on stdout.")
def build(
    board,
    board_file,
    data,
    epochs,
    out_dir,
    resolution,
    config_path,
    split,
    batch_size,
    calibration_images,
    verify_images,
    seed,
    device,
    threads,
    cache_dir,
    data_dir,
    emulate,
    emulate_images,
    tflm_dir,
    resume,
    as_json,
) -> None:
    """Recommend a PhiNet for the board, train it on --data, quantize it to int8, export
    TFLite + ONNX + C headers, run it in TFLite Micro and judge the board.

    The model is only called done when the measured model bytes and tensor arena fit the
    board; otherwise every file is kept and the exit code is 1.

    \b
    advisor build --board stm32l476 --data cifar10 --epochs 30 --resolution 32 --out build/l476
    """
    import numpy as np
    import torch

    from advisor.config import PhiNetConfig
    from advisor.cost import estimate
    from advisor.export.pipeline import export_and_verify
    from advisor.export.report import write_reports
    from advisor.training.augment import channel_stats, to_input
    from advisor.training.checkpoint import load_checkpoint
    from advisor.training.data import default_cache_dir, load_dataset
    from advisor.training.recipe import Recipe
    from advisor.training.trainer import train

    for name, value, low in (
        ("--epochs", epochs, 1),
        ("--calibration-images", calibration_images, 1),
        ("--verify-images", verify_images, 0),
        ("--threads", threads or 1, 1),
        ("--emulate-images", emulate_images, 1),
    ):
        if value < low:
            raise AdvisorError(f"{name} must be at least {low}, got {value}")
    if threads:
        torch.set_num_threads(threads)
    target = resolve_board(board, board_file)
    out = Path(out_dir)
    config = PhiNetConfig.from_json_file(config_path) if config_path else None
    resolution = resolution or (config.resolution if config else 160)
    warnings: list[str] = []

    splits = load_dataset(
        data,
        resolution,
        split,
        seed,
        cache_dir=cache_dir or default_cache_dir(),
        data_dir=data_dir,
        channels=config.in_channels if config else 3,
    )
    click.echo(
        f"data: {splits.source}: {len(splits.train_labels)} train / "
        f"{len(splits.val_labels)} val / {len(splits.test_labels)} test images, "
        f"{splits.num_classes} classes",
        err=True,
    )

    if config is None:
        recommendation = _recommend(target, resolution, splits)
        config = recommendation.config
        warnings += recommendation.warnings
        config_source = f"solver: grid search over the {sources.COST_MODEL}"
        out.mkdir(parents=True, exist_ok=True)
        (out / "recommendation.json").write_text(json.dumps(recommendation.to_dict(), indent=2))
    else:
        config_source = f"--config {config_path}"
        changes = {
            key: value
            for key, value in (("resolution", resolution), ("num_classes", splits.num_classes))
            if getattr(config, key) != value
        }
        if changes:
            warnings.append(
                f"the config was changed to {changes} (--resolution and the data "
                "decide them); its costs change with them"
            )
            config = replace(config, **changes)
    click.echo(
        f"PhiNet: alpha {config.alpha:g} beta {config.beta:g} t0 {config.t0:g} "
        f"N {config.num_layers} at {config.resolution}x{config.resolution}",
        err=True,
    )
    cost = estimate(config)

    recipe = Recipe.study(
        epochs=epochs,
        warmup_epochs=round(epochs * STUDY_WARMUP / STUDY_EPOCHS),
        resolution=resolution,
        split=split,
        seed=seed,
        **({"batch_size": batch_size} if batch_size else {}),
    )
    try:
        result = train(
            config,
            splits,
            out / "training",
            recipe,
            resume=resume,
            device=device,
            progress=not as_json,
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: training is saved in {out / 'training'}; continue with the "
            "same command and --resume",
            err=True,
        )
        raise SystemExit(130) from None
    model, config, _extra = load_checkpoint(result.checkpoint)

    scale, shift = channel_stats(splits.mean, splits.std, "cpu")

    def preprocess(images: torch.Tensor) -> np.ndarray:
        return np.concatenate(
            [
                to_input(images[i : i + 256], scale, shift, resolution).numpy()
                for i in range(0, len(images), 256)
            ]
        )

    rng = np.random.default_rng(seed)
    pick = rng.choice(
        len(splits.train_labels), min(calibration_images, len(splits.train_labels)), replace=False
    )
    test_count = (
        len(splits.test_labels)
        if verify_images == 0
        else min(verify_images, len(splits.test_labels))
    )
    test_pick = np.sort(rng.choice(len(splits.test_labels), test_count, replace=False))
    click.echo(
        f"export: calibrating on {len(pick)} training images, verifying on {test_count} "
        "test images in TFLite Micro",
        err=True,
    )
    exported = export_and_verify(
        model,
        config,
        out,
        calibration=preprocess(splits.train_images[pick]),
        test_images=preprocess(splits.test_images[test_pick]),
        test_labels=splits.test_labels[test_pick].numpy(),
        labels=splits.classes,
        boards=[target],
        name="model",
        emulate=emulate,
        emulate_images=emulate_images,
        estimated_arena_bytes=cost.arena_bytes,
        tflm_dir=tflm_dir,
        preprocessing=f"x = (pixel / 255 - mean) / std per channel, mean {_rounded(splits.mean)}, "
        f"std {_rounded(splits.std)}, image resized bilinearly to "
        f"{resolution}x{resolution}",
    )

    report = {
        "fits": exported.fits_all,
        "board": {
            **target.to_dict(),
            "flash_budget_bytes": target.flash_budget_bytes,
            "ram_budget_bytes": target.ram_budget_bytes,
            "source": sources.BOARD_PROFILE,
        },
        "config": config.to_dict(),
        "config_source": config_source,
        "cost_model": {
            "params": cost.params,
            "macs": cost.macs,
            "peak_ram_bytes": cost.peak_ram_bytes,
            "arena_bytes": cost.arena_bytes,
            "flash_bytes": cost.flash_bytes,
            "source": sources.COST_MODEL,
        },
        "training": {**result.to_dict(), "source": sources.TRAINING},
        "normalization": {"mean": list(splits.mean), "std": list(splits.std)},
        "classes": splits.classes,
        "export": exported.to_dict(),
        "warnings": warnings,
    }
    json_path, md_path = write_reports(out, report)
    if as_json:
        click.echo(json.dumps(report, indent=2))
    else:
        click.echo(md_path.read_text())
    if exported.emulation_problems:
        raise DoesNotFit(
            "the firmware did not run as on the host: "
            + "; ".join(exported.emulation_problems)
            + f". Files kept in {out} (emulated/ holds the ELF, map and QEMU log)"
        )
    if not exported.fits_all:
        raise DoesNotFit(
            f"the trained model does not fit {target.id}: "
            + "; ".join(
                [r for fit in exported.fits for r in fit.reasons()]
                + [
                    reason
                    for run in exported.emulation
                    if run.status == "ran" and run.board
                    for reason in run.board.reasons()
                ]
            )
            + f". Files kept in {out}; choose a smaller config (--config) or a "
            "lower --resolution"
        )
    click.echo(
        f"done: {exported.tflite_path} fits {target.id}; reports {json_path}, {md_path}", err=True
    )


def _rounded(values) -> list[float]:
    return [round(float(v), 4) for v in values]


def _recommend(target, resolution: int, splits):
    from advisor.scaling import load_prior
    from advisor.solver.budgets import budgets_for
    from advisor.solver.recommendation import solve
    from advisor.solver.space import SearchSpace

    prior = load_prior(None)
    space = SearchSpace(
        resolution=resolution,
        in_channels=splits.channels,
        num_classes=splits.num_classes,
        num_layers=tuple(int(n) for n in prior.candidate_ns),
    )
    result = solve(target, budgets_for(target), space, prior)
    if not result.fits:
        raise NothingFits(result.message())
    return result
