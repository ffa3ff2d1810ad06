"""The int8 model of a build: post-training quantization first, then, when its measured
accuracy drop is too large (or always, if asked), quantization-aware fine-tuning and a second
export. Both are measured in TFLite Micro on the same test images; the better int8 model is
kept in the output folder, the other in ``ptq/`` or ``qat/`` beside it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from advisor import provenance
from advisor.errors import AdvisorError
from advisor.export.pipeline import ExportResult, export_and_verify


@dataclass(frozen=True)
class Int8Row:
    """One int8 candidate: how it was quantized and what it measured."""

    method: str  # "ptq" or "qat"
    float_top1: float  # the trained float model's, in PyTorch
    int8_top1: float  # measured in TFLite Micro
    samples: int
    activation_ranges: str
    kept: bool
    files: str
    qat: dict[str, Any] | None = None

    @property
    def drop_points(self) -> float:
        return 100 * (self.float_top1 - self.int8_top1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "float_top1": {"value": self.float_top1, "source": provenance.TRAINING + " (PyTorch)"},
            "int8_top1": {
                "value": self.int8_top1,
                "source": f"{provenance.TFLITE_MICRO} on {self.samples} test images",
            },
            "drop_points": round(self.drop_points, 3),
            "activation_ranges": self.activation_ranges,
            "kept": self.kept,
            "files": self.files,
            **({"qat": self.qat} if self.qat is not None else {}),
        }


@dataclass(frozen=True)
class Int8Result:
    export: ExportResult  # the kept model's
    rows: list[Int8Row]
    qat_mode: str
    max_drop: float
    calibration_draw: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": [row.to_dict() for row in self.rows],
            "qat_mode": self.qat_mode,
            "max_drop_points": self.max_drop,
            "calibration": {
                "images": self.export.calibration_images,
                "draw": self.calibration_draw,
            },
        }


def calibrated_ranges(
    model: Any, calibration: np.ndarray, method: str
) -> dict[str, tuple[float, float]]:
    """Activation ranges of a PhiNet for the int8 converter, chosen by ``method`` from its
    float activations on ``calibration`` (N, C, R, R)."""
    import torch

    from advisor.training.fake_quant import QuantizedPhiNet

    batches = (torch.from_numpy(calibration[i : i + 64]) for i in range(0, len(calibration), 64))
    return QuantizedPhiNet(model).calibrate(batches, method)


def _move_export(result: ExportResult, source: Path, target: Path) -> ExportResult:
    """Move an export's model files and firmware folder from ``source`` into ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    moved = {}
    for name in ("tflite_path", "onnx_path", "firmware_dir"):
        path = getattr(result, name)
        destination = target / path.relative_to(source)
        if destination.exists():
            shutil.rmtree(destination) if destination.is_dir() else destination.unlink()
        shutil.move(str(path), str(destination))
        moved[name] = destination
    return replace(result, **moved)


def quantize_model(
    model: Any,
    config: Any,
    out_dir: str | Path,
    *,
    calibration: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    finetune: Callable[[], Any],
    qat: str = "auto",
    max_drop: float = 0.5,
    range_method: str = "percentile",
    calibration_draw: str = "",
    **export_options: Any,
) -> Int8Result:
    """PTQ export into ``out_dir``; then, when ``qat`` is "always", or "auto" and the PTQ
    drop exceeds ``max_drop`` points, ``finetune()`` (returning a
    :class:`~advisor.training.qat.QATResult`) and an export of the fine-tuned model with the
    ranges it learned. The model with the higher TFLite Micro top-1 stays in ``out_dir``
    (PTQ on a tie); the other moves to ``out_dir/ptq`` or ``out_dir/qat``.
    ``range_method`` sets the post-training activation ranges: "minmax" lets the converter
    calibrate (min/max over the calibration images), "percentile" and "mse" choose them per
    tensor with :meth:`~advisor.training.fake_quant.QuantizedPhiNet.calibrate`.
    ``export_options`` go to :func:`~advisor.export.pipeline.export_and_verify`."""
    if qat not in ("auto", "always", "never"):
        raise AdvisorError(f"unknown qat mode {qat!r}; choose auto, always or never")
    if not max_drop >= 0:
        raise AdvisorError(f"max_drop must be >= 0 points, got {max_drop!r}")
    summary = {"qat_mode": qat, "max_drop": max_drop, "calibration_draw": calibration_draw}
    out = Path(out_dir)
    ranges = None
    if range_method != "minmax":
        ranges = calibrated_ranges(model, calibration, range_method)
    ptq = export_and_verify(
        model,
        config,
        out,
        calibration=calibration,
        test_images=test_images,
        test_labels=test_labels,
        ranges=ranges,
        ranges_source=f"{range_method} of the calibration images' activations per tensor "
        "(advisor), given to the converter as FakeQuant ranges",
        **export_options,
    )
    float_top1 = ptq.verification.float_top1
    ptq_row = Int8Row(
        "ptq",
        float_top1,
        ptq.verification.int8_top1,
        ptq.verification.samples,
        ptq.activation_ranges,
        kept=True,
        files=str(out),
    )
    if qat == "never" or (qat == "auto" and ptq_row.drop_points <= max_drop):
        return Int8Result(ptq, [ptq_row], **summary)

    tuned = finetune()
    staging = out / "qat"
    qat_export = export_and_verify(
        tuned.model.model,
        config,
        staging,
        calibration=calibration,
        test_images=test_images,
        test_labels=test_labels,
        ranges=tuned.ranges,
        ranges_source="quantization-aware fine-tuning (moving averages of the batches' "
        "min/max through the simulated int8 graph)",
        **export_options,
    )
    keep_qat = qat_export.verification.int8_top1 > ptq_row.int8_top1
    if keep_qat:
        ptq = _move_export(ptq, out, out / "ptq")
        qat_export = _move_export(qat_export, staging, out)
        ptq_row = replace(ptq_row, kept=False, files=str(out / "ptq"))
    qat_row = Int8Row(
        "qat",
        float_top1,
        qat_export.verification.int8_top1,
        qat_export.verification.samples,
        qat_export.activation_ranges,
        kept=keep_qat,
        files=str(out if keep_qat else staging),
        qat={**tuned.to_dict(), "source": "measured: fine-tuning run"},
    )
    return Int8Result(qat_export if keep_qat else ptq, [ptq_row, qat_row], **summary)
