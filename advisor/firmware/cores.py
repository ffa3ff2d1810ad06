"""Cortex-M cores the firmware is built for, the QEMU machine that emulates each, and which
board profiles map to which (by their ``core`` field).

QEMU 7.2 has MPS2 FPGA images for Cortex-M3 (an385), M4 (an386), M7 (an500) and M33 (an505,
an521). The bundled TFLite Micro tree carries the CMSIS device headers of Cortex-M4 and M7
only, and QEMU has no Cortex-M0/M0+ machine with more than 16 KB of RAM (microbit), so M33
and M0+ boards are reported as not emulated rather than run on a different core.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from advisor.errors import AdvisorError


@dataclass(frozen=True)
class Core:
    id: str  # short name used in cache keys and CLI output: "m4", "m7"
    name: str  # "Cortex-M4F"
    cpu_flags: tuple[str, ...]
    cmsis_device: str  # CMSIS device header directory and define: ARMCM4 / ARMCM7
    qemu_machine: str


CORES: dict[str, Core] = {
    "m4": Core(
        "m4",
        "Cortex-M4F",
        ("-mcpu=cortex-m4", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-mthumb"),
        "ARMCM4",
        "mps2-an386",
    ),
    "m7": Core(
        "m7",
        "Cortex-M7",
        ("-mcpu=cortex-m7", "-mfpu=fpv5-d16", "-mfloat-abi=hard", "-mthumb"),
        "ARMCM7",
        "mps2-an500",
    ),
}

# Cores QEMU could run in principle but this build does not: why, for the skip message.
NOT_EMULATED = {
    "m33": "QEMU has mps2-an505/an521 (Cortex-M33), but the TFLite Micro tree lacks the "
    "ARMCM33 CMSIS device headers and the secure-state startup it needs",
    "m0": "QEMU's only Cortex-M0 machine (microbit) has 16 KB of RAM, too little for "
    "TFLite Micro and a model",
    "m3": "Cortex-M3 has no FPU and no DSP extension; no board profile uses it",
}

_BOARD_CORE = re.compile(r"cortex-m(\d+)(\+|plus)?f?", re.IGNORECASE)


def core_id_for(board_core: str) -> str | None:
    """The short core id ("m4", "m7", "m0", "m33"...) in a board's ``core`` text, such as
    "Cortex-M4F" or "2x Cortex-M0+"; None when it is not a Cortex-M."""
    match = _BOARD_CORE.search(board_core.replace(" ", ""))
    return f"m{match.group(1)}" if match else None


def core_for_board(board) -> Core:
    """The emulated core for a board profile; AdvisorError saying why when there is none."""
    core_id = core_id_for(board.core)
    if core_id in CORES:
        return CORES[core_id]
    reason = NOT_EMULATED.get(core_id or "", "it is not an Arm Cortex-M core")
    raise AdvisorError(
        f"board {board.id} ({board.core}) cannot be emulated: {reason}; "
        f"emulated cores: {', '.join(c.name for c in CORES.values())}"
    )


def get_core(core: str | Core) -> Core:
    if isinstance(core, Core):
        return core
    key = core_id_for(core) if core.lower().startswith("cortex") else core.lower()
    if key not in CORES:
        raise AdvisorError(
            f"unknown core {core!r}: choose one of {', '.join(sorted(CORES))} "
            f"({', '.join(c.name for c in CORES.values())})"
        )
    return CORES[key]
