"""Find the cross compiler, QEMU and the host compiler (for the instruction-count plugin).

Nothing here installs anything: a missing tool becomes a :class:`ToolsMissing` that names the
tool and the command that installs it, and the emulated run is skipped with that reason.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import AdvisorError

APT_PACKAGES = (
    "gcc-arm-none-eabi",
    "libnewlib-arm-none-eabi",
    "libstdc++-arm-none-eabi-newlib",
    "qemu-system-arm",
)
INSTALL_HINT = (
    f"sudo apt-get install {' '.join(APT_PACKAGES)} (Debian/Ubuntu); elsewhere install "
    "Arm GNU Toolchain (arm-none-eabi) and QEMU >= 7.2 and put them on PATH"
)


class ToolsMissing(AdvisorError):
    """The emulated run cannot happen here: a tool or the TFLite Micro tree is missing.

    Callers report it as skipped (with :attr:`hint`), never as a failed check."""

    def __init__(self, reason: str, hint: str = INSTALL_HINT) -> None:
        super().__init__(f"{reason}; install: {hint}")
        self.reason = reason
        self.hint = hint


@dataclass(frozen=True)
class Toolchain:
    gcc: str
    gxx: str
    ar: str
    nm: str
    qemu: str
    host_cc: str | None  # for the QEMU instruction-count plugin; None: no counts
    version: str  # arm-none-eabi-gcc --version, first line (part of the cache key)


def _which(name: str) -> str | None:
    prefix = os.environ.get("ADVISOR_ARM_PREFIX", "")
    return shutil.which(prefix + name) if prefix else shutil.which(name)


@functools.lru_cache(maxsize=1)
def _has_nano_specs(gcc: str) -> bool:
    out = subprocess.run(
        [gcc, "-print-file-name=nano.specs"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return bool(out) and Path(out).is_file()


def find_toolchain() -> Toolchain:
    """The tools on PATH (``ADVISOR_ARM_PREFIX`` may name a toolchain's bin/ with a trailing
    slash); ToolsMissing naming the first tool that is not there."""
    found = {name: _which(f"arm-none-eabi-{name}") for name in ("gcc", "g++", "ar", "nm")}
    for name, path in found.items():
        if path is None:
            raise ToolsMissing(f"the Arm cross compiler (arm-none-eabi-{name}) is not on PATH")
    if not _has_nano_specs(found["gcc"]):
        raise ToolsMissing(
            "arm-none-eabi-gcc has no newlib (nano.specs not found)",
            "sudo apt-get install libnewlib-arm-none-eabi libstdc++-arm-none-eabi-newlib",
        )
    qemu = shutil.which("qemu-system-arm")
    if qemu is None:
        raise ToolsMissing("qemu-system-arm is not on PATH", "sudo apt-get install qemu-system-arm")
    version = subprocess.run(
        [found["gcc"], "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    return Toolchain(
        gcc=found["gcc"],
        gxx=found["g++"],
        ar=found["ar"],
        nm=found["nm"],
        qemu=qemu,
        host_cc=shutil.which("gcc") or shutil.which("cc"),
        version=version,
    )
