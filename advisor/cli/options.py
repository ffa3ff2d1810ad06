"""Options several commands share, declared once with their click types (a value out of range
is a usage error, exit 2). Each is a decorator factory; ``help`` and ``default`` may be
adapted to the command. `--board` / `--board-file` live in `advisor.cli.boards`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

Decorator = Callable[[Callable[..., Any]], Callable[..., Any]]

DATA_HELP = "cifar10, cifar100, an image folder (root/<split>/<class>/*.jpg) or a .zip of one."


def data_option(*, required: bool = False, help: str = DATA_HELP) -> Decorator:
    return click.option("--data", required=required, metavar="PATH_OR_NAME", help=help)


def data_dir_option(
    help: str = "Where CIFAR's python-format archive is, or is downloaded to.",
) -> Decorator:
    return click.option("--data-dir", type=click.Path(file_okay=False), help=help)


def cache_dir_option(
    help: str = "Decoded-image cache (default $MCU_ADVISOR_CACHE or ~/.cache/mcu-advisor).",
) -> Decorator:
    return click.option("--cache-dir", type=click.Path(file_okay=False), help=help)


def device_option(
    help: str = "Training device: cpu, cuda, cuda:1 ... (default: cuda when available).",
) -> Decorator:
    return click.option("--device", help=help)


def seed_option(*, default: int | None = None, help: str) -> Decorator:
    return click.option(
        "--seed",
        type=click.IntRange(min=0),
        default=default,
        show_default=default is not None,
        help=help,
    )


def threads_option(
    help: str = "torch CPU threads (on a busy machine 1 is often fastest: competing intra-op "
    "threads spin against each other).",
) -> Decorator:
    return click.option("--threads", type=click.IntRange(min=1), help=help)


def emulate_images_option(*, default: int, help: str) -> Decorator:
    return click.option(
        "--emulate-images",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help=help,
    )


def tflm_dir_option() -> Decorator:
    return click.option(
        "--tflm-dir",
        type=click.Path(file_okay=False),
        envvar="ADVISOR_TFLM_DIR",
        help="TFLite Micro source tree for the emulated build (default: "
        "shared/third_party/tflite-micro beside the checkout; env ADVISOR_TFLM_DIR).",
    )


def json_option(help: str = "JSON on stdout instead of a table.") -> Decorator:
    return click.option("--json", "as_json", is_flag=True, help=help)


def accuracy_scale_option() -> Decorator:
    """How a results table's accuracy column is written (commands that read results)."""
    return click.option(
        "--accuracy-scale",
        # the choices of advisor.scaling.results.ACCURACY_SCALES (not imported: numpy)
        type=click.Choice(["auto", "percent", "fraction"]),
        default="auto",
        show_default=True,
        help="How the results' accuracy column is written. auto: percent, and a table whose "
        "accuracies all lie in [0, 1] is refused (fractions); fraction: multiplied by 100.",
    )
