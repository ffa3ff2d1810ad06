"""The measured flash of a PhiNet's runtime per core family and TFLite Micro kernel set, read
from ``runtime_flash.json`` beside this module (written by ``bench/measure_runtime_flash.py``:
TFLite Micro, CMSIS-NN, the C libraries and the generated application with the QEMU port,
linked for the core and measured in the image; everything but the model array).

A board whose core and engine have a measurement plans its model flash with it; the others
keep the profile's assumed reserve (:meth:`advisor.boards.Board.flash_reserve`)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from advisor import provenance

DATA_FILE = Path(__file__).resolve().parent / "runtime_flash.json"
# Inference engines that are TFLite Micro with a kernel set the firmware build has.
ENGINE_KERNELS = {"tflm-reference": "ref", "tflm-cmsis-nn": "cmsis_nn"}


@dataclass(frozen=True)
class MeasuredRuntime:
    core_family: str
    kernels: str
    flash_bytes: int
    source: str  # "measured: linked image under QEMU (compiler, TFLM commit)"


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[tuple[str, str], int], str]:
    data = json.loads(DATA_FILE.read_text())
    tools = data["measured_with"]
    compiler = tools["compiler"].split(")")[-1].split()[0]  # "12.2.1"
    source = provenance.linked_image(f"arm-none-eabi-gcc {compiler}", tools["tflm_commit"][:12])
    rows = {
        (row["core_family"], row["kernels"]): row["runtime_flash_bytes"] for row in data["runtime"]
    }
    return rows, source


@dataclass(frozen=True)
class FlashReserve:
    """The flash a board keeps out of the model's reach: the measured runtime plus the
    profile's HAL + application reserve (`runtime_bytes` set), or the profile's assumed
    reserve for runtime, HAL and application (`runtime_bytes` None). `source` says which:
    the measurement's label or "board profile (assumed)"."""

    reserve_bytes: int
    source: str
    runtime_bytes: int | None = None
    runtime_kernels: str | None = None
    hal_bytes: int | None = None
    unmeasured: str | None = None  # why no measurement applies

    @property
    def measured(self) -> bool:
        return self.runtime_bytes is not None

    def describe(self) -> str:
        """The flash budget's formula in words, with where each term came from."""
        if self.runtime_bytes is None:
            return (
                f"{provenance.BOARD_PROFILE} flash - {self.reserve_bytes:,} B reserve for "
                f"runtime, HAL and application ({self.source}: {self.unmeasured})"
            )
        return (
            f"{provenance.BOARD_PROFILE} flash - {self.runtime_bytes:,} B runtime "
            f"({self.runtime_kernels} kernels; {self.source}) - {self.hal_bytes:,} B HAL and "
            f"application ({provenance.ASSUMED})"
        )

    def to_dict(self) -> dict:
        return {**self.__dict__, "measured": self.measured, "formula": self.describe()}


def measured_runtime(core_family: str, engine: str) -> MeasuredRuntime | None:
    """The runtime measured for `core_family` (e.g. "cortex-m7") and `engine` (e.g.
    "tflm-cmsis-nn"); None when that pair was not measured (another core or engine)."""
    kernels = ENGINE_KERNELS.get(engine)
    if kernels is None:
        return None
    rows, source = _table()
    flash = rows.get((core_family, kernels))
    return None if flash is None else MeasuredRuntime(core_family, kernels, flash, source)


def flash_reserve(
    core_family: str, engine: str, assumed_reserve_bytes: int, hal_bytes: int
) -> FlashReserve:
    """The measured runtime + `hal_bytes` where `core_family` and `engine` were measured,
    else `assumed_reserve_bytes`, labelled as the assumption it is."""
    runtime = measured_runtime(core_family, engine)
    if runtime is None:
        return FlashReserve(
            assumed_reserve_bytes,
            provenance.ASSUMED,
            unmeasured=f"no runtime measured for {core_family} with {engine}",
        )
    return FlashReserve(
        runtime.flash_bytes + hal_bytes,
        runtime.source,
        runtime_bytes=runtime.flash_bytes,
        runtime_kernels=runtime.kernels,
        hal_bytes=hal_bytes,
    )
