"""Proof on the target: compile a firmware bundle with TFLite Micro for a Cortex-M core, run
it under QEMU on test images and measure it (:func:`emulate_bundle`, :func:`emulate`).

Every figure in the report says where it came from: the 32-bit arena and the outputs from
TFLite Micro running on the emulated core, sizes from the linked ELF and its map, instruction
counts from QEMU's TCG plugin (instructions, not cycles or time). When the TFLite Micro tree,
the cross compiler or QEMU is missing, the report is ``skipped`` with the reason and the
install command: nothing is run and nothing is claimed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from advisor.errors import AdvisorError
from advisor.firmware.compile import default_cache_dir
from advisor.firmware.cores import Core, core_for_board, get_core
from advisor.firmware.link import build_image
from advisor.firmware.qemu import MARK_SYMBOL, OP_MARK_SYMBOL, plugin_library, run_qemu
from advisor.firmware.sizes import ImageSizes, image_sizes, symbol_address
from advisor.firmware.toolchain import ToolsMissing, find_toolchain
from advisor.firmware.tree import KERNEL_SETS, find_tree

SOURCE_QEMU = "measured: TFLite Micro on the emulated core (QEMU)"
SOURCE_HOST = "measured: TFLite Micro (x86-64 host build)"
SOURCE_ELF = "measured: linked firmware ELF and map"
SOURCE_ICOUNT = "measured: QEMU TCG plugin, guest instructions (not cycles, not time)"
_ARENA_SIZE = re.compile(r"constexpr int kTensorArenaSize = (\d+);")


def kernels_for_board(board) -> str:
    """The TFLite Micro kernel set for a board's engine: reference kernels for
    tflm-reference, CMSIS-NN otherwise (other engines, e.g. X-CUBE-AI, are not TFLite Micro;
    CMSIS-NN is the closest engine the emulated build has)."""
    engine = str(getattr(board, "engine", "") or board.runtime).lower()
    return "ref" if "ref" in engine and "cmsis" not in engine else "cmsis_nn"


@dataclass
class BoardImageFit:
    """The linked image against a board: flash = image + HAL reserve, RAM = static RAM +
    measured stack against all RAM, and the arena against the largest contiguous block."""

    board_id: str
    fits: bool
    flash_bytes: int
    hal_flash_reserve_bytes: int
    flash_margin_bytes: int
    ram_total_bytes: int
    ram_margin_bytes: int
    arena_block_bytes: int
    arena_margin_bytes: int

    def reasons(self) -> list[str]:
        """Why the linked image does not fit, in words (empty when it fits)."""
        out = []
        if self.flash_margin_bytes < 0:
            out.append(
                f"linked image + {self.hal_flash_reserve_bytes:,} B HAL reserve is "
                f"{-self.flash_margin_bytes:,} B over {self.board_id}'s flash"
            )
        if self.ram_margin_bytes < 0:
            out.append(
                f"static RAM + stack is {-self.ram_margin_bytes:,} B over {self.board_id}'s RAM"
            )
        if self.arena_margin_bytes < 0:
            out.append(
                f"arena is {-self.arena_margin_bytes:,} B over {self.board_id}'s largest RAM block"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.__dict__,
            "source": "board profile sizes; the image's runtime is measured, so the flash "
            "reserve covers only HAL and application",
        }


def judge_image(board, sizes: ImageSizes, stack_bytes: int) -> BoardImageFit:
    hal = board.reserved_hal_flash_bytes
    flash_margin = board.flash_bytes - hal - sizes.flash_bytes
    ram_margin = board.ram_total_bytes - sizes.static_ram_bytes - stack_bytes
    arena_margin = board.ram_bytes - sizes.arena_bytes
    return BoardImageFit(
        board_id=board.id,
        fits=flash_margin >= 0 and ram_margin >= 0 and arena_margin >= 0,
        flash_bytes=board.flash_bytes,
        hal_flash_reserve_bytes=hal,
        flash_margin_bytes=flash_margin,
        ram_total_bytes=board.ram_total_bytes,
        ram_margin_bytes=ram_margin,
        arena_block_bytes=board.ram_bytes,
        arena_margin_bytes=arena_margin,
    )


@dataclass
class EmulationReport:
    status: str  # "ran" or "skipped"
    core: str
    kernels: str
    machine: str = ""
    reason: str = ""  # why it was skipped
    install: str = ""  # how to get what is missing
    images: int = 0
    arena_used_bytes: int | None = None
    arena_declared_bytes: int | None = None
    host_arena_bytes: int | None = None
    estimated_arena_bytes: int | None = None
    outputs_compared: int = 0
    outputs_equal_rate: float | None = None
    outputs_within_one_rate: float | None = None
    outputs_max_abs_diff: int | None = None
    sizes: ImageSizes | None = None
    stack_used_bytes: int | None = None
    instructions_per_inference: list[int] = field(default_factory=list)
    instructions_per_op: list[tuple[str, int]] = field(default_factory=list)
    instructions_total: int | None = None
    board: BoardImageFit | None = None
    build: dict[str, Any] = field(default_factory=dict)
    qemu_seconds: float | None = None
    errors: list[str] = field(default_factory=list)
    outputs: np.ndarray | None = None
    artifacts: str | None = None

    @property
    def outputs_ok(self) -> bool | None:
        """Reference kernels must equal the host interpreter byte for byte; optimized
        kernels round differently and may be one step off."""
        if self.outputs_compared == 0:
            return None
        if self.kernels == "ref":
            return self.outputs_equal_rate == 1.0
        return self.outputs_within_one_rate == 1.0

    def to_dict(self) -> dict[str, Any]:
        if self.status != "ran":
            return {
                "status": self.status,
                "core": self.core,
                "kernels": self.kernels,
                "reason": self.reason,
                "install": self.install,
            }
        per = self.instructions_per_inference
        return {
            "status": self.status,
            "core": self.core,
            "kernels": self.kernels,
            "machine": self.machine,
            "images": self.images,
            "errors": self.errors,
            "arena_used_bytes": {"value": self.arena_used_bytes, "source": SOURCE_QEMU},
            "arena_declared_bytes": {
                "value": self.arena_declared_bytes,
                "source": "model_config.h kTensorArenaSize (host measurement + margin)",
            },
            "host_arena_bytes": {"value": self.host_arena_bytes, "source": SOURCE_HOST},
            "estimated_arena_bytes": {"value": self.estimated_arena_bytes, "source": "cost model"},
            "outputs_vs_host": {
                "images": self.outputs_compared,
                "equal_rate": self.outputs_equal_rate,
                "within_one_step_rate": self.outputs_within_one_rate,
                "max_abs_diff_steps": self.outputs_max_abs_diff,
                "ok": self.outputs_ok,
                "expected": "equal" if self.kernels == "ref" else "within one step",
                "source": f"{SOURCE_QEMU} vs {SOURCE_HOST}",
            },
            "image": {**(self.sizes.to_dict() if self.sizes else {}), "source": SOURCE_ELF},
            "stack_used_bytes": {
                "value": self.stack_used_bytes,
                "source": SOURCE_QEMU + " (painted stack, QEMU port's printf included)",
            },
            "instructions_per_inference": {
                "value": round(float(np.mean(per))) if per else None,
                "min": min(per) if per else None,
                "max": max(per) if per else None,
                "inferences_counted": len(per),
                "source": SOURCE_ICOUNT,
            },
            "instructions_per_op": {
                "value": [{"op": op, "instructions": n} for op, n in self.instructions_per_op],
                "source": SOURCE_ICOUNT + ", first inference, TFLM profiler hooks",
            },
            "instructions_total": self.instructions_total,
            "board": self.board.to_dict() if self.board else None,
            "build": self.build,
            "qemu_seconds": None if self.qemu_seconds is None else round(self.qemu_seconds, 2),
            "artifacts": self.artifacts,
        }


def skipped(core: str, kernels: str, missing: ToolsMissing) -> EmulationReport:
    return EmulationReport("skipped", core, kernels, reason=missing.reason, install=missing.hint)


def default_inputs(shape: tuple[int, ...], count: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(-128, 128, size=(count, *shape), dtype=np.int8)


def emulate_bundle(
    bundle_dir: str | os.PathLike,
    *,
    core: str | Core,
    kernels: str = "cmsis_nn",
    inputs: np.ndarray | None = None,
    board=None,
    host_arena_bytes: int | None = None,
    estimated_arena_bytes: int | None = None,
    compare_with_host: bool = True,
    tflm_dir: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    work_dir: str | os.PathLike | None = None,
    jobs: int | None = None,
    timeout: float = 600,
) -> EmulationReport:
    """Build the bundle written by :func:`advisor.export.firmware.write_firmware` for
    ``core`` with ``kernels`` ("ref" or "cmsis_nn"), run it under QEMU on ``inputs``
    (int8, (N, H, W, C); default 4 random images) and measure it. ``work_dir`` keeps the
    ELF, map and log (default: a temporary folder, removed). Returns a "skipped" report when
    the TFLM tree, the cross compiler or QEMU is missing; raises AdvisorError when the
    firmware does not build."""
    from advisor.export.firmware import read_array
    from advisor.export.tflite_file import read_tflite

    core = get_core(core)
    if kernels not in KERNEL_SETS:
        raise AdvisorError(f"kernels must be one of {', '.join(KERNEL_SETS)}, got {kernels!r}")
    try:
        toolchain = find_toolchain()
        tree = find_tree(tflm_dir)
    except ToolsMissing as missing:
        return skipped(core.name, kernels, missing)

    bundle_dir = Path(bundle_dir)
    model = read_array(bundle_dir / "model_data.cc")
    info = read_tflite(model)
    input_tensor, output_tensor = info.inputs[0], info.outputs[0]
    if (input_tensor.dtype, output_tensor.dtype) != ("INT8", "INT8"):
        raise AdvisorError(
            f"the firmware runs full-int8 models; this one has a {input_tensor.dtype} input "
            f"and a {output_tensor.dtype} output: export it with int8 input and output"
        )
    classes = int(np.prod(output_tensor.shape[1:]))
    if inputs is None:
        inputs = default_inputs(tuple(input_tensor.shape[1:]))
    inputs = np.ascontiguousarray(inputs, dtype=np.int8)
    per_image = int(np.prod(input_tensor.shape[1:]))
    if inputs.ndim < 2 or inputs[0].size != per_image:
        raise AdvisorError(
            f"inputs must be int8 images of shape (N, {', '.join(map(str, input_tensor.shape[1:]))}),"
            f" got {inputs.shape}"
        )
    declared = int(_ARENA_SIZE.search((bundle_dir / "model_config.h").read_text()).group(1))

    cache_root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    keep = work_dir is not None
    work = Path(work_dir) if keep else Path(tempfile.mkdtemp(prefix="advisor-fw-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        try:
            image = build_image(
                bundle_dir,
                info.op_types,
                core=core,
                kernels=kernels,
                tree=tree,
                toolchain=toolchain,
                cache_root=cache_root,
                work=work,
                jobs=jobs or os.cpu_count() or 1,
            )
        except ToolsMissing as missing:  # e.g. the tree has no kernel for one of the ops
            return skipped(core.name, kernels, missing)
        sizes = image_sizes(image.elf, image.map_file, toolchain.nm)
        (work / "inputs.bin").write_bytes(inputs.tobytes())
        plugin = plugin_library(toolchain, cache_root)
        run = run_qemu(
            image.elf,
            machine=core.qemu_machine,
            toolchain=toolchain,
            work=work,
            classes=classes,
            plugin=plugin,
            mark_address=symbol_address(toolchain.nm, image.elf, MARK_SYMBOL),
            op_mark_address=symbol_address(toolchain.nm, image.elf, OP_MARK_SYMBOL),
            timeout=timeout,
        )
        (work / "qemu.log").write_text(run.log)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)

    report = EmulationReport(
        "ran",
        core.name,
        kernels,
        machine=core.qemu_machine,
        images=len(run.outputs),
        arena_used_bytes=run.arena_used_bytes,
        arena_declared_bytes=declared,
        host_arena_bytes=host_arena_bytes,
        estimated_arena_bytes=estimated_arena_bytes,
        sizes=sizes,
        stack_used_bytes=run.stack_used_bytes,
        instructions_per_inference=run.instructions_per_inference,
        instructions_per_op=run.instructions_per_op,
        instructions_total=run.instructions_total,
        qemu_seconds=run.seconds,
        errors=list(run.errors),
        outputs=run.outputs,
        artifacts=str(work) if keep else None,
        build={
            "objects_compiled": image.compile.compiled,
            "objects_cached": image.compile.cached,
            "compile_seconds": round(image.compile.seconds, 1),
            "link_seconds": round(image.link_seconds, 2),
            "build_seconds": round(image.seconds, 1),
            "cache": image.compile.folders,
            "tree": str(tree.root),
            "tree_id": tree.tree_id,
            "compiler": toolchain.version,
        },
    )
    if run.exit_code != 0 and not report.errors:
        report.errors.append(f"QEMU exited with status {run.exit_code}")
    if len(run.outputs) != len(inputs):
        report.errors.append(f"{len(run.outputs)} of {len(inputs)} images ran")
    if compare_with_host and len(run.outputs):
        host_arena = max(declared, host_arena_bytes or 0)
        _compare(report, model, inputs[: len(run.outputs)], run.outputs, host_arena)
    if board is not None:
        report.board = judge_image(board, sizes, run.stack_used_bytes or 0)
    return report


def _compare(report: EmulationReport, model: bytes, inputs, outputs, arena: int) -> None:
    from advisor.export.tflm import run_tflm

    host = run_tflm(model, inputs, arena).reshape(len(inputs), -1).astype(np.int32)
    difference = np.abs(outputs.reshape(len(outputs), -1).astype(np.int32) - host)
    per_image = difference.max(axis=1)
    report.outputs_compared = len(inputs)
    report.outputs_equal_rate = float((per_image == 0).mean())
    report.outputs_within_one_rate = float((per_image <= 1).mean())
    report.outputs_max_abs_diff = int(difference.max())


def emulate(
    model: bytes,
    *,
    core: str | Core,
    kernels: str = "cmsis_nn",
    inputs: np.ndarray | None = None,
    arena_bytes: int | None = None,
    labels=None,
    **options: Any,
) -> EmulationReport:
    """:func:`emulate_bundle` for a .tflite's bytes: renders the firmware bundle first (its
    arena from the host interpreter's minimal arena unless ``arena_bytes`` is given)."""
    from advisor.export.firmware import write_firmware
    from advisor.export.tflm import ArenaMeasurement, minimal_arena

    arena = (
        minimal_arena(model) if arena_bytes is None else ArenaMeasurement(arena_bytes, 0, 0, 0, "")
    )
    with tempfile.TemporaryDirectory(prefix="advisor-bundle-") as folder:
        write_firmware(folder, model, arena, labels)
        options.setdefault("host_arena_bytes", arena.arena_bytes)
        return emulate_bundle(folder, core=core, kernels=kernels, inputs=inputs, **options)


def emulate_boards(
    bundle_dir: str | os.PathLike,
    boards,
    inputs: np.ndarray | None,
    work_root: str | os.PathLike | None = None,
    *,
    kernels: str | None = None,
    **options: Any,
) -> list[EmulationReport]:
    """Build and run ``bundle_dir`` under QEMU for each board's core with its kernel set
    (or ``kernels``), each report judged against its board. A board whose core cannot be
    emulated gets a "skipped" report saying why. ``work_root`` keeps each run's ELF, map
    and log in a subfolder."""
    reports = []
    for board in boards:
        chosen = kernels or kernels_for_board(board)
        try:
            core = core_for_board(board)
        except AdvisorError as err:
            reports.append(skipped(board.core, chosen, ToolsMissing(str(err), "")))
            continue
        work = None if work_root is None else Path(work_root) / f"{board.id}-{core.id}-{chosen}"
        reports.append(
            emulate_bundle(
                bundle_dir,
                core=core,
                kernels=chosen,
                inputs=inputs,
                board=board,
                work_dir=work,
                **options,
            )
        )
    return reports
