"""The flash a PhiNet's runtime takes in the linked firmware image: everything but the model
array, measured by building a model with :func:`advisor.firmware.emulate` for one core and
kernel set and reading the image's size breakdown (:mod:`advisor.firmware.sizes`).

The runtime is TFLite Micro (interpreter, allocator, the model's kernels), CMSIS-NN (with
those kernels), the C and C++ libraries (newlib-nano, libgcc, libstdc++, libm) and the
generated application with the QEMU port (``main.cc``, ``port_mps2.cc``, startup and vector
table). The board budgets (:mod:`advisor.boards.runtime_flash`) read the figures this writes
to ``advisor/boards/runtime_flash.json`` (``bench/measure_runtime_flash.py``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from advisor.boards.profile import core_family
from advisor.firmware.cores import get_core
from advisor.firmware.emulate import default_inputs, emulate
from advisor.firmware.toolchain import ToolsMissing

MODEL_ARRAY = "model array"


@dataclass(frozen=True)
class RuntimeFlash:
    core_family: str  # as board profiles name it: "cortex-m7", "cortex-m4f"
    kernels: str  # "ref" or "cmsis_nn"
    runtime_flash_bytes: int  # image flash minus the model array
    image_flash_bytes: int
    model_array_bytes: int
    breakdown: dict[str, int]  # runtime bytes by origin (input sections, before merging)
    ops: tuple[str, ...]
    compiler: str
    tree_id: str

    def to_dict(self) -> dict:
        return {**self.__dict__, "ops": list(self.ops)}


def measure_runtime_flash(
    model: bytes,
    *,
    core: str,
    kernels: str,
    tflm_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    jobs: int | None = None,
) -> RuntimeFlash:
    """Build ``model`` (a full-int8 .tflite) for ``core`` ("m4", "m7") with ``kernels``, run
    it once under QEMU, and return the flash of everything in the image but the model array.
    ToolsMissing when the TFLite Micro tree, the cross compiler or QEMU is missing."""
    from advisor.export.tflite_file import read_tflite

    info = read_tflite(model)
    report = emulate(
        model,
        core=core,
        kernels=kernels,
        inputs=default_inputs(tuple(info.inputs[0].shape[1:]), count=1),
        compare_with_host=False,
        tflm_dir=tflm_dir,
        cache_dir=cache_dir,
        jobs=jobs,
    )
    if report.status != "ran":
        raise ToolsMissing(report.reason, report.install)
    if report.errors:
        raise RuntimeError(f"the firmware for {core} {kernels} failed under QEMU: {report.errors}")
    sizes = report.sizes
    assert sizes is not None
    model_array = sizes.flash_breakdown.get(MODEL_ARRAY, 0)
    if model_array < len(model):
        raise RuntimeError(
            f"the link map shows {model_array} B of model array for a {len(model)} B model"
        )
    return RuntimeFlash(
        core_family=core_family(get_core(core).name),
        kernels=kernels,
        runtime_flash_bytes=sizes.flash_bytes - model_array,
        image_flash_bytes=sizes.flash_bytes,
        model_array_bytes=model_array,
        breakdown={k: v for k, v in sizes.flash_breakdown.items() if k != MODEL_ARRAY},
        ops=tuple(info.op_types),
        compiler=report.build["compiler"],
        tree_id=report.build["tree_id"],
    )
