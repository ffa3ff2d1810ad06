"""The tool's main job as a library function: recommend a PhiNet for a board (or take one),
train it, quantize it to int8, export TFLite + ONNX + C headers, run it in TFLite Micro and
judge the board on the measured figures. ``advisor build`` is its command line.

    from advisor.boards import load_board
    from advisor.build import build

    report = build(load_board("stm32l476"), "cifar10", "build/l476", epochs=30, resolution=32)
    report.fits, report.files["tflite"], report.to_dict()

Each stage is a function of its own (``recommend_config``, ``adapt_config``, ``train_model``,
``preprocess``, ``pick_images``, ``export_model``: post-training int8, then quantization-aware
fine-tuning when the drop is too large); ``build`` chains them. Heavy packages
(torch, tensorflow) are imported by the stages that need them, not by this module.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from advisor import provenance
from advisor.atomic import write_text_atomic
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError, NothingFits
from advisor.training.recipe import SPLITS, STUDY_EPOCHS
from advisor.validation import MAX_RESOLUTION, integer

if TYPE_CHECKING:
    import numpy as np
    import torch

    from advisor.boards import Board
    from advisor.cost import CostReport
    from advisor.export.int8 import Int8Result
    from advisor.export.pipeline import ExportResult
    from advisor.solver import Recommendation
    from advisor.training.data import DataSplits
    from advisor.training.trainer import TrainResult

log = logging.getLogger(__name__)

# Training images the int8 quantization is calibrated on, and test images run in TFLite Micro
# for the int8 accuracy (0: all of them).
CALIBRATION_IMAGES, VERIFY_IMAGES = 500, 2000
QAT_MODES = ("auto", "always", "never")
RANGE_METHODS = ("percentile", "mse", "minmax")
# top-1 points the post-training int8 model may lose before --qat auto fine-tunes
MAX_DROP = 0.5


@dataclass
class BuildReport:
    """What ``build`` made and measured. ``fits`` is the verdict on the measured model bytes
    and tensor arena; ``files`` are the paths it wrote; ``to_dict()`` is report.json."""

    board: Board
    config: PhiNetConfig
    config_source: str
    cost: CostReport
    training: TrainResult
    mean: tuple[float, ...]
    std: tuple[float, ...]
    classes: list[str]
    export: ExportResult
    out_dir: Path
    warnings: list[str] = field(default_factory=list)
    recommendation: Recommendation | None = None
    int8: Int8Result | None = None

    @property
    def fits(self) -> bool:
        return self.export.fits_all

    def reasons(self) -> list[str]:
        """Why the model does not fit the board (empty when it fits): the model bytes and
        host arena, and the linked firmware image where it ran under QEMU."""
        return [reason for fit in self.export.fits for reason in fit.reasons()] + [
            reason
            for run in self.export.emulation
            if run.status == "ran" and run.board
            for reason in run.board.reasons()
        ]

    @property
    def files(self) -> dict[str, Path]:
        files = {
            "tflite": self.export.tflite_path,
            "onnx": self.export.onnx_path,
            "firmware": self.export.firmware_dir,
            "checkpoint": self.training.checkpoint,
            "report_json": self.out_dir / "report.json",
            "report_md": self.out_dir / "report.md",
        }
        if self.recommendation is not None:
            files["recommendation"] = self.out_dir / "recommendation.json"
        return files

    def to_dict(self) -> dict[str, Any]:
        """Every figure with its source (report.json)."""
        cost = self.cost
        return {
            "fits": self.fits,
            "board": {
                **self.board.to_dict(),
                "flash_budget_bytes": self.board.flash_budget_bytes,
                "ram_budget_bytes": self.board.ram_budget_bytes,
                "source": provenance.BOARD_PROFILE,
            },
            "config": self.config.to_dict(),
            "config_source": self.config_source,
            "cost_model": {
                "params": cost.params,
                "macs": cost.macs,
                "peak_ram_bytes": cost.peak_ram_bytes,
                "arena_bytes": cost.arena_bytes,
                "flash_bytes": cost.flash_bytes,
                "source": provenance.COST_MODEL,
            },
            "training": {**self.training.to_dict(), "source": provenance.TRAINING},
            "normalization": {"mean": list(self.mean), "std": list(self.std)},
            "classes": self.classes,
            "export": self.export.to_dict(),
            **({"int8": self.int8.to_dict()} if self.int8 is not None else {}),
            "warnings": self.warnings,
        }


def build(
    board: Board,
    data: str | Path | DataSplits,
    out_dir: str | Path,
    *,
    config: PhiNetConfig | str | Path | None = None,
    epochs: int = STUDY_EPOCHS,
    resolution: int | None = None,
    split: str = "70/15/15",
    batch_size: int | None = None,
    calibration_images: int = CALIBRATION_IMAGES,
    verify_images: int = VERIFY_IMAGES,
    seed: int = 0,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    echo: Callable[[str], None] | None = None,
    qat: str = "auto",
    max_drop: float = MAX_DROP,
    qat_epochs: int | None = None,
    ranges: str = "percentile",
    emulate: bool = True,
    emulate_images: int = 16,
    tflm_dir: str | Path | None = None,
) -> BuildReport:
    """Build a verified int8 PhiNet for ``board`` from ``data`` into ``out_dir``.

    ``data`` is cifar10, cifar100, an image folder (root/<split>/<class>/*.jpg), a .zip of one
    or loaded :class:`DataSplits` (then its own split and resolution count). ``config`` (a PhiNetConfig or a JSON file: a config or an
    ``advisor recommend --json`` output) skips the recommendation; its resolution and class
    count follow ``resolution`` and the data. ``resolution`` defaults to the config's, else the
    study's 160. Training uses the study's recipe for ``epochs`` (warm-up 10/110 of them).
    ``seed`` seeds the split, training and the calibration and test image picks.
    ``qat`` ("auto", "always", "never"): quantization-aware fine-tuning for ``qat_epochs``
    (default 3 % of ``epochs``, at least 1) when the post-training int8 model loses more than
    ``max_drop`` top-1 points in TFLite Micro (auto), always, or never; both are reported.
    ``ranges`` chooses the post-training activation ranges per tensor: "percentile" (99.99th
    of the calibration activations), "mse" or "minmax" (the converter's own calibration).
    ``emulate`` builds the firmware for the board's core and runs it under QEMU on
    ``emulate_images`` test images (``tflm_dir``: the TFLite Micro tree; skipped, with the
    reason, when the tree, cross compiler or QEMU is missing).

    Writes the training run (``out_dir``/training), the model files, firmware and report.json /
    report.md, and returns the report; a model that does not fit the board is reported
    (``fits`` False), not raised. Raises NothingFits when no PhiNet fits the board (with no
    ``config``), AdvisorError on bad input and KeyboardInterrupt when training is interrupted
    (it is saved in ``out_dir``/training; ``resume=True`` continues it, the fine-tuning too).
    """
    from advisor.solver.recommendation import DEFAULT_RESOLUTION
    from advisor.training.session import resolve_device

    say = echo or log.info
    if calibration_images < 1:
        raise AdvisorError(f"calibration_images must be at least 1, got {calibration_images}")
    if emulate_images < 1:
        raise AdvisorError(f"emulate_images must be at least 1, got {emulate_images}")
    if verify_images < 0:
        raise AdvisorError(f"verify_images must be at least 0 (0: all), got {verify_images}")
    if split not in SPLITS:
        raise AdvisorError(f"unknown split {split!r}; choose one of {SPLITS}")
    if qat not in QAT_MODES:
        raise AdvisorError(f"unknown qat mode {qat!r}; choose one of {QAT_MODES}")
    if not max_drop >= 0:
        raise AdvisorError(f"max_drop must be at least 0 points, got {max_drop}")
    if ranges not in RANGE_METHODS:
        raise AdvisorError(f"unknown range method {ranges!r}; choose one of {RANGE_METHODS}")
    if qat_epochs is not None and qat_epochs < 1:
        raise AdvisorError(f"qat_epochs must be at least 1, got {qat_epochs}")
    out = Path(out_dir)
    given, config_source = _given_config(config)
    if resolution is None:
        resolution = given.resolution if given else DEFAULT_RESOLUTION
    resolution = integer(
        resolution, "resolution", low=1, high=MAX_RESOLUTION, fix="e.g. 160, the study's"
    )
    resolve_device(device)  # an unknown device fails before any data is read

    splits = load_data(
        data,
        resolution,
        split,
        seed,
        cache_dir=cache_dir,
        data_dir=data_dir,
        channels=given.in_channels if given else 3,
    )
    say(
        f"data: {splits.source}: {len(splits.train_labels)} train / "
        f"{len(splits.val_labels)} val / {len(splits.test_labels)} test images, "
        f"{splits.num_classes} classes"
    )

    chosen, config_source, warnings, recommendation = choose_config(
        board, given, config_source, resolution, splits, out
    )
    say(
        f"PhiNet: alpha {chosen.alpha:g} beta {chosen.beta:g} t0 {chosen.t0:g} "
        f"N {chosen.num_layers} at {chosen.resolution}x{chosen.resolution}"
    )

    model, trained, result = train_model(
        chosen,
        splits,
        out / "training",
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        device=device,
        resume=resume,
        progress=progress,
    )

    calibration_pick, test_pick = pick_images(splits, calibration_images, verify_images, seed)
    say(
        f"export: calibrating on {len(calibration_pick)} training images (the same number per "
        f"class), verifying on {len(test_pick)} test images in TFLite Micro"
    )
    cost = _estimate(trained)
    int8 = export_model(
        model,
        trained,
        splits,
        out,
        board,
        calibration_pick,
        test_pick,
        qat=qat,
        max_drop=max_drop,
        qat_epochs=qat_epochs,
        ranges=ranges,
        training=result,
        resume=resume,
        say=say if progress else None,
        emulate=emulate,
        emulate_images=emulate_images,
        estimated_arena_bytes=cost.arena_bytes,
        tflm_dir=tflm_dir,
    )
    return write_report(
        BuildReport(
            board=board,
            config=trained,
            config_source=config_source,
            cost=cost,
            training=result,
            mean=tuple(splits.mean),
            std=tuple(splits.std),
            classes=list(splits.classes),
            export=int8.export,
            out_dir=out,
            warnings=warnings,
            recommendation=recommendation,
            int8=int8,
        )
    )


def choose_config(
    board: Board,
    given: PhiNetConfig | None,
    given_source: str,
    resolution: int,
    splits: DataSplits,
    out_dir: Path,
) -> tuple[PhiNetConfig, str, list[str], Recommendation | None]:
    """The PhiNet to train, where it came from, warnings, and the recommendation (written to
    ``out_dir``/recommendation.json) when the solver chose it."""
    if given is not None:
        adapted, warnings = adapt_config(given, resolution, splits.num_classes)
        return adapted, given_source, warnings, None
    recommendation = recommend_config(board, resolution, splits.channels, splits.num_classes)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(
        out_dir / "recommendation.json", json.dumps(recommendation.to_dict(), indent=2)
    )
    source = f"solver: grid search over the {provenance.COST_MODEL}"
    return recommendation.config, source, list(recommendation.warnings), recommendation


def _given_config(config: PhiNetConfig | str | Path | None) -> tuple[PhiNetConfig | None, str]:
    if config is None or isinstance(config, PhiNetConfig):
        return config, "given: PhiNetConfig"
    return PhiNetConfig.from_json_file(config), f"--config {config}"


def _estimate(config: PhiNetConfig) -> CostReport:
    from advisor.cost import estimate

    return estimate(config)


def load_data(
    data: str | Path | DataSplits,
    resolution: int,
    split: str,
    seed: int,
    *,
    cache_dir: str | Path | None = None,
    data_dir: str | Path | None = None,
    channels: int = 3,
) -> DataSplits:
    """The data set, decoded (and cached) at ``resolution`` and split by ``seed``."""
    from advisor.cache import user_cache_dir
    from advisor.training.data import DataSplits, load_dataset

    if isinstance(data, DataSplits):
        return data
    return load_dataset(
        data,
        resolution,
        split,
        seed,
        cache_dir=cache_dir or user_cache_dir(),
        data_dir=data_dir,
        channels=channels,
    )


def recommend_config(
    board: Board, resolution: int, in_channels: int, num_classes: int
) -> Recommendation:
    """The solver's recommendation for ``board`` (its own budgets, the default prior); raises
    NothingFits with what would make one fit."""
    from advisor.solver import recommend

    result = recommend(
        board, resolution=resolution, in_channels=in_channels, num_classes=num_classes
    )
    if not result.fits:
        raise NothingFits(result.message())
    return result


def adapt_config(
    config: PhiNetConfig, resolution: int, num_classes: int
) -> tuple[PhiNetConfig, list[str]]:
    """``config`` at ``resolution`` with the data's ``num_classes``, and a warning if that
    changed it."""
    changes = {
        key: value
        for key, value in (("resolution", resolution), ("num_classes", num_classes))
        if getattr(config, key) != value
    }
    if not changes:
        return config, []
    warning = (
        f"the config was changed to {changes} (--resolution and the data decide them); "
        "its costs change with them"
    )
    return replace(config, **changes), [warning]


def train_model(
    config: PhiNetConfig,
    splits: DataSplits,
    run_dir: Path,
    *,
    epochs: int,
    batch_size: int | None = None,
    seed: int = 0,
    device: str | None = None,
    resume: bool = False,
    progress: bool = True,
) -> tuple[torch.nn.Module, PhiNetConfig, TrainResult]:
    """Train ``config`` with the study's recipe for ``epochs`` into ``run_dir``; the best
    checkpoint's model (eval mode), its config and the training result."""
    from advisor.training.checkpoint import load_checkpoint
    from advisor.training.recipe import Recipe
    from advisor.training.trainer import train

    recipe = Recipe.study(
        epochs,
        resolution=config.resolution,
        split=splits.split,
        seed=seed,
        **({"batch_size": batch_size} if batch_size else {}),
    )
    result = train(config, splits, run_dir, recipe, resume=resume, device=device, progress=progress)
    model, trained, _extra = load_checkpoint(result.checkpoint)
    return model, trained, result


def preprocess(
    images: torch.Tensor, mean: Sequence[float], std: Sequence[float], resolution: int
) -> np.ndarray:
    """uint8 (N, C, H, W) images as the network's float inputs, exactly as in training:
    normalised per channel and resized bilinearly to ``resolution``."""
    from advisor.export.pipeline import in_batches
    from advisor.training.augment import channel_stats, to_input

    scale, shift = channel_stats(mean, std, "cpu")
    return in_batches(lambda batch: to_input(batch, scale, shift, resolution).numpy(), images)


def pick_images(
    splits: DataSplits, calibration_images: int, verify_images: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Seeded picks: indices of the training images to calibrate on (the same number from
    every class, sorted) and of the test images to verify on (``verify_images`` 0: all of
    them, in order)."""
    import numpy as np

    from advisor.training.data import stratified_draw

    rng = np.random.default_rng(seed)
    train_count, test_count = len(splits.train_labels), len(splits.test_labels)
    calibration = stratified_draw(
        splits.train_labels.numpy(), min(calibration_images, train_count), seed
    )
    count = test_count if verify_images == 0 else min(verify_images, test_count)
    return calibration, np.sort(rng.choice(test_count, count, replace=False))


def export_model(
    model: torch.nn.Module,
    config: PhiNetConfig,
    splits: DataSplits,
    out_dir: Path,
    board: Board,
    calibration_pick: np.ndarray,
    test_pick: np.ndarray,
    *,
    training: TrainResult,
    qat: str = "auto",
    max_drop: float = MAX_DROP,
    qat_epochs: int | None = None,
    ranges: str = "percentile",
    resume: bool = False,
    say: Callable[[str], None] | None = None,
    **emulation: Any,
) -> Int8Result:
    """Export and verify the trained model (see ``export_and_verify``) and judge ``board``:
    post-training int8 first, then (``qat``) quantization-aware fine-tuning of the model in
    ``training``'s recipe and a second export (see :func:`advisor.export.int8.quantize_model`).
    ``emulation`` are ``export_and_verify``'s emulate options.
    """
    from advisor.export.int8 import quantize_model
    from advisor.training.qat import QATSettings, finetune

    resolution = config.resolution
    calibration = preprocess(
        splits.train_images[calibration_pick], splits.mean, splits.std, resolution
    )
    settings = QATSettings.for_training(training.recipe.epochs, seed=training.seed)
    if qat_epochs is not None:
        settings = replace(settings, epochs=qat_epochs)

    def run_qat():
        if say:
            say(
                f"int8: quantization-aware fine-tuning for {settings.epochs} epoch(s) "
                f"(--qat {qat}, --max-drop {max_drop:g} points)"
            )
        return finetune(
            model,
            splits.train_images,
            splits.train_labels,
            calibration,
            mean=tuple(splits.mean),
            std=tuple(splits.std),
            recipe=training.recipe,
            out_dir=out_dir / "training" / "qat",
            settings=settings,
            resume=resume,
            log=say,
        )

    return quantize_model(
        model,
        config,
        out_dir,
        calibration=calibration,
        test_images=preprocess(splits.test_images[test_pick], splits.mean, splits.std, resolution),
        test_labels=splits.test_labels[test_pick].numpy(),
        finetune=run_qat,
        qat=qat,
        max_drop=max_drop,
        range_method=ranges,
        calibration_draw=f"stratified: {len(calibration_pick) // splits.num_classes} per class, "
        f"seed {training.seed}",
        labels=splits.classes,
        boards=[board],
        name="model",
        **emulation,
        preprocessing=f"x = (pixel / 255 - mean) / std per channel, mean "
        f"{_rounded(splits.mean)}, std {_rounded(splits.std)}, image resized bilinearly to "
        f"{resolution}x{resolution}",
    )


def write_report(report: BuildReport) -> BuildReport:
    """report.json and report.md in the report's ``out_dir``."""
    from advisor.export.report import write_reports

    write_reports(report.out_dir, report.to_dict())
    return report


def _rounded(values: Sequence[float]) -> list[float]:
    return [round(float(v), 4) for v in values]
