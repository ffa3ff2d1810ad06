"""`advisor build`: the command line of `advisor.build.build` (recommend -> train -> quantize
-> export -> verify -> bundle)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from advisor.build import CALIBRATION_IMAGES, MAX_DROP, QAT_MODES, RANGE_METHODS, VERIFY_IMAGES
from advisor.cli.boards import board_options, resolve_board
from advisor.cli.options import (
    cache_dir_option,
    data_dir_option,
    data_option,
    device_option,
    emulate_images_option,
    json_option,
    seed_option,
    tflm_dir_option,
    threads_option,
)
from advisor.errors import DoesNotFit
from advisor.training.recipe import SPLITS, STUDY_EPOCHS
from advisor.validation import RESOLUTION


@click.command()
@board_options
@data_option(required=True)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
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
    type=RESOLUTION,
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
    type=click.Choice(SPLITS),
    default=SPLITS[0],
    show_default=True,
    help="70/15/15 pools and re-splits (the study); test+val keeps the data set's test split.",
)
@click.option("--batch-size", type=click.IntRange(min=1), help="Training batch size (study: 64).")
@click.option(
    "--calibration-images",
    type=click.IntRange(min=1),
    default=CALIBRATION_IMAGES,
    show_default=True,
    help="Training images the int8 quantization is calibrated on.",
)
@click.option(
    "--verify-images",
    type=click.IntRange(min=0),
    default=VERIFY_IMAGES,
    show_default=True,
    help="Test images run in TFLite Micro for the int8 accuracy (0 = all).",
)
@seed_option(default=0, help="Seeds the split, training, and the calibration and test image picks.")
@device_option()
@threads_option()
@cache_dir_option()
@data_dir_option(help="Where CIFAR is read from.")
@click.option(
    "--ranges",
    type=click.Choice(RANGE_METHODS),
    default=RANGE_METHODS[0],
    show_default=True,
    help="Post-training int8 activation ranges per tensor: the 99.99th percentile of the "
    "calibration activations, the MSE-optimal range, or min/max (the converter's own).",
)
@click.option(
    "--qat",
    type=click.Choice(QAT_MODES),
    default="auto",
    show_default=True,
    help="Quantization-aware fine-tuning: auto runs it when the post-training int8 model "
    "loses more than --max-drop points of top-1 in TFLite Micro.",
)
@click.option(
    "--max-drop",
    type=click.FloatRange(min=0),
    default=MAX_DROP,
    show_default=True,
    help="Top-1 points the int8 model may lose before --qat auto fine-tunes.",
)
@click.option(
    "--qat-epochs",
    type=click.IntRange(min=1),
    help="Fine-tuning epochs (default: 3 %% of --epochs, at least 1).",
)
@click.option(
    "--emulate/--no-emulate",
    default=True,
    show_default=True,
    help="Build the firmware with TFLite Micro for the board's core and run it under QEMU "
    "(skipped, with the reason, when the tree, compiler or QEMU is missing).",
)
@emulate_images_option(default=16, help="Test images run on the emulated core.")
@tflm_dir_option()
@click.option(
    "--resume", is_flag=True, help="Continue an interrupted training or fine-tuning in --out."
)
@json_option(help="The report as JSON on stdout.")
def build(
    board,
    board_file,
    engine,
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
    ranges,
    qat,
    max_drop,
    qat_epochs,
    emulate,
    emulate_images,
    tflm_dir,
    resume,
    as_json,
) -> None:
    """Recommend a PhiNet for the board, train it on --data, quantize it to int8, export
    TFLite + ONNX + C headers, run it in TFLite Micro, build the firmware for the board's core
    and run it under QEMU (--emulate), and judge the board.

    The model is only called done when the measured model bytes and tensor arena fit the
    board; otherwise every file is kept and the exit code is 1.

    \b
    advisor build --board stm32l476 --data cifar10 --epochs 30 --resolution 32 --out build/l476
    """
    from advisor.build import build as run_build
    from advisor.training.session import set_threads

    set_threads(threads)
    target = resolve_board(board, board_file, engine)
    out = Path(out_dir)
    try:
        report = run_build(
            target,
            data,
            out,
            config=config_path,
            epochs=epochs,
            resolution=resolution,
            split=split,
            batch_size=batch_size,
            calibration_images=calibration_images,
            verify_images=verify_images,
            seed=seed,
            device=device,
            cache_dir=cache_dir,
            data_dir=data_dir,
            resume=resume,
            qat=qat,
            max_drop=max_drop,
            qat_epochs=qat_epochs,
            ranges=ranges,
            emulate=emulate,
            emulate_images=emulate_images,
            tflm_dir=tflm_dir,
            progress=not as_json,
            echo=lambda message: click.echo(message, err=True),
        )
    except KeyboardInterrupt:
        click.echo(
            f"interrupted: training (and fine-tuning, after every epoch) is saved in "
            f"{out / 'training'}; continue with the same command and --resume",
            err=True,
        )
        raise SystemExit(130) from None
    files = report.files
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        click.echo(files["report_md"].read_text())
    problems = report.export.emulation_problems
    if problems:
        raise DoesNotFit(
            "the firmware did not run as on the host: "
            + "; ".join(problems)
            + f". Files kept in {out} (emulated/ holds the ELF, map and QEMU log)"
        )
    if not report.fits:
        raise DoesNotFit(
            f"the trained model does not fit {target.id}: "
            + "; ".join(report.reasons())
            + f". Files kept in {out}; choose a smaller config (--config) or a "
            "lower --resolution"
        )
    click.echo(
        f"done: {files['tflite']} fits {target.id}; reports {files['report_json']}, "
        f"{files['report_md']}",
        err=True,
    )
