"""Proof on the target: build the firmware bundle with TFLite Micro for a board's Cortex-M
core, run it under QEMU and measure it (arena, outputs, image size, instructions)."""

from advisor.firmware.cores import CORES, core_for_board
from advisor.firmware.emulate import (
    EmulationReport,
    emulate,
    emulate_boards,
    emulate_bundle,
    judge_image,
    kernels_for_board,
)
from advisor.firmware.toolchain import ToolsMissing

__all__ = [
    "CORES",
    "EmulationReport",
    "ToolsMissing",
    "core_for_board",
    "emulate",
    "emulate_boards",
    "emulate_bundle",
    "judge_image",
    "kernels_for_board",
]
