"""Export a trained PhiNet and prove it: int8 TFLite + ONNX, float check, TFLite Micro
arena and agreement, firmware bundle, the bundle built and run on the board's core under
QEMU (when the tools are there), board verdicts. Used by ``advisor.build``."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from advisor import provenance
from advisor.atomic import write_bytes_atomic
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.export.compile_check import CompileCheck, check_compiles
from advisor.export.convert import run_onnx, to_nhwc, to_onnx, to_tflite
from advisor.export.firmware import firmware_arena_size, tflm_version, write_firmware
from advisor.export.fit import BoardFit, judge_model
from advisor.export.tflite_file import read_tflite
from advisor.export.tflm import ArenaMeasurement, minimal_arena
from advisor.export.verify import (
    FLOAT_TOLERANCE,
    Int8Verification,
    float_max_abs_diff,
    quantize,
    verify_int8,
)

# How many test images the float TFLite and ONNX graphs are compared with PyTorch on.
FLOAT_CHECK_IMAGES = 8
# Images per batch when a whole set goes through the model or the preprocessing.
BATCH = 256


def in_batches(function: Callable[[Any], np.ndarray], items: Any, batch: int = BATCH) -> np.ndarray:
    """``function`` applied to ``items`` (an array or tensor) ``batch`` rows at a time, the
    results concatenated: bounded memory for a whole test set."""
    return np.concatenate([function(items[i : i + batch]) for i in range(0, len(items), batch)])


@dataclass
class ExportResult:
    tflite_path: Path
    onnx_path: Path
    firmware_dir: Path
    model_bytes: int
    arena: ArenaMeasurement
    firmware_arena_bytes: int
    ops: tuple[str, ...]
    float_tflite_max_abs_diff: float
    onnx_max_abs_diff: float
    verification: Int8Verification
    calibration_images: int
    fits: list[BoardFit] = field(default_factory=list)
    compile_checks: list[CompileCheck] = field(default_factory=list)
    emulation: list[Any] = field(default_factory=list)  # advisor.firmware.EmulationReport
    seconds: float = 0.0
    activation_ranges: str = "converter: min/max over the calibration images"

    @property
    def fits_all(self) -> bool:
        """Every board fits: the model and host arena, and the linked image where it ran."""
        images = [e.board.fits for e in self.emulation if e.status == "ran" and e.board]
        return all(fit.fits for fit in self.fits) and all(images)

    @property
    def emulation_problems(self) -> list[str]:
        """Emulated runs that failed or whose outputs differ from the host interpreter."""
        problems = []
        for run in self.emulation:
            if run.status != "ran":
                continue
            where = f"{run.core} ({run.machine}, {run.kernels} kernels)"
            problems += [f"{where}: {error}" for error in run.errors]
            if run.outputs_ok is False:
                problems.append(
                    f"{where}: int8 outputs differ from the host interpreter (max "
                    f"{run.outputs_max_abs_diff} steps, {run.outputs_equal_rate:.0%} equal)"
                )
        return problems

    def to_dict(self) -> dict[str, Any]:
        """Every figure, each with its source."""
        return {
            "files": {
                "tflite": str(self.tflite_path),
                "onnx": str(self.onnx_path),
                "firmware": str(self.firmware_dir),
            },
            "model_bytes": {"value": self.model_bytes, "source": provenance.CONVERTER},
            "arena_bytes": {
                "value": self.arena.arena_bytes,
                "source": f"{provenance.TFLITE_MICRO} (tflite-micro {tflm_version()}, "
                "x86-64 host build: an upper bound for a 32-bit MCU)",
            },
            "arena_head_bytes": {"value": self.arena.head_bytes, "source": provenance.TFLITE_MICRO},
            "arena_tail_bytes": {"value": self.arena.tail_bytes, "source": provenance.TFLITE_MICRO},
            "arena_pointer_structs_bytes": {
                "value": self.arena.pointer_structs_bytes,
                "source": provenance.TFLITE_MICRO,
            },
            "firmware_arena_bytes": {
                "value": self.firmware_arena_bytes,
                "source": f"{provenance.TFLITE_MICRO} + margin max(1 KiB, 5 %), "
                "capped at the board's arena budget",
            },
            "ops": {"value": list(self.ops), "source": provenance.CONVERTER},
            "float_tflite_max_abs_diff": {
                "value": self.float_tflite_max_abs_diff,
                "limit": FLOAT_TOLERANCE,
                "source": "measured: float TFLite vs PyTorch logits",
            },
            "onnx_max_abs_diff": {
                "value": self.onnx_max_abs_diff,
                "source": "measured: onnxruntime vs PyTorch logits",
            },
            "verification": {
                **self.verification.to_dict(),
                "source": f"{provenance.TFLITE_MICRO} vs tf.lite reference kernels vs "
                "PyTorch, on the test images",
            },
            "firmware_compiles": {
                "value": [check.to_dict() for check in self.compile_checks],
                "source": "measured: model_data.cc and model_config.h compiled (syntax only) "
                "with each compiler listed"
                if self.compile_checks
                else "not checked: no C++ compiler (g++, arm-none-eabi-g++) on PATH",
            },
            "calibration_images": self.calibration_images,
            "activation_ranges": self.activation_ranges,
            "boards": [{**fit.to_dict(), "source": provenance.BOARD_PROFILE} for fit in self.fits],
            "emulation": [run.to_dict() for run in self.emulation],
            "seconds": round(self.seconds, 1),
        }


def export_and_verify(
    model: Any,
    config: PhiNetConfig,
    out_dir: str | Path,
    *,
    calibration: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    boards: Sequence[Any] = (),
    preprocessing: str = "",
    name: str = "model",
    ranges: Mapping[str, tuple[float, float]] | None = None,
    ranges_source: str = "given",
    emulate: bool = True,
    emulate_images: int = 16,
    estimated_arena_bytes: int | None = None,
    tflm_dir: str | Path | None = None,
) -> ExportResult:
    """Export ``model`` (a PyTorch PhiNet in eval mode) and verify it.

    ``calibration`` and ``test_images`` are (N, C, H, W) float arrays preprocessed exactly as
    the model saw them in training. ``ranges`` fixes the int8 activation ranges (see
    :func:`~advisor.export.convert.to_tflite`; ``ranges_source`` says where they came from);
    without it the converter calibrates. Raises AdvisorError when the float TFLite graph
    differs from PyTorch by more than FLOAT_TOLERANCE (the int8 model would not be
    trustworthy).

    With ``emulate``, the firmware bundle is built for each board's core and kernel set and
    run under QEMU on the first ``emulate_images`` test images (see
    :func:`advisor.firmware.emulate_bundle`); a missing tool makes that step "skipped".
    """
    import torch

    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    state_dict = model.state_dict()
    with torch.no_grad():
        test_logits = in_batches(lambda batch: model(torch.from_numpy(batch)).numpy(), test_images)

    check = slice(0, FLOAT_CHECK_IMAGES)
    float_diff = float_max_abs_diff(
        to_tflite(config, state_dict), test_images[check], test_logits[check]
    )
    if not float_diff < FLOAT_TOLERANCE:
        raise AdvisorError(
            f"the TFLite graph rebuilt from the weights differs from PyTorch by "
            f"{float_diff:.2e} (limit {FLOAT_TOLERANCE:.0e}); the export does not "
            "reproduce this model, so no int8 model was written"
        )

    int8 = to_tflite(config, state_dict, calibration, ranges)
    tflite_path = out_dir / f"{name}.tflite"
    write_bytes_atomic(tflite_path, int8)
    onnx_path = to_onnx(model, config, out_dir / f"{name}.onnx")
    onnx_diff = float(np.abs(run_onnx(onnx_path, test_images[check]) - test_logits[check]).max())

    arena = minimal_arena(int8)
    verification = verify_int8(int8, test_images, test_logits, arena.arena_bytes, test_labels)
    arena_limit = min((board.ram_budget_bytes for board in boards), default=None)
    firmware = write_firmware(
        out_dir / "firmware",
        int8,
        arena,
        labels,
        model_name=tflite_path.name,
        preprocessing=preprocessing,
        arena_limit=arena_limit,
    )
    compile_checks = check_compiles(firmware.directory, firmware.resolver_methods)
    firmware_arena = firmware_arena_size(arena.arena_bytes, arena_limit)
    parsed = read_tflite(int8)
    emulation = []
    if emulate:
        from advisor.firmware import emulate_boards

        emulation = emulate_boards(
            firmware.directory,
            boards,
            quantize(to_nhwc(test_images[:emulate_images]), parsed.inputs[0]),
            out_dir / "emulated",
            host_arena_bytes=arena.arena_bytes,
            estimated_arena_bytes=estimated_arena_bytes,
            tflm_dir=tflm_dir,
        )
    return ExportResult(
        tflite_path=tflite_path,
        onnx_path=onnx_path,
        firmware_dir=firmware.directory,
        model_bytes=len(int8),
        arena=arena,
        firmware_arena_bytes=firmware_arena,
        ops=parsed.op_types,
        float_tflite_max_abs_diff=float_diff,
        onnx_max_abs_diff=onnx_diff,
        verification=verification,
        calibration_images=len(calibration),
        fits=[
            judge_model(board, len(int8), arena.arena_bytes, parsed.operators)[0]
            for board in boards
        ],
        compile_checks=compile_checks,
        emulation=emulation,
        seconds=time.perf_counter() - started,
        **({"activation_ranges": ranges_source} if ranges is not None else {}),
    )
