"""What the linked image takes: flash and static RAM from the ELF's sections, and where the
flash goes (model array, TFLite Micro, CMSIS-NN, toolchain libraries, application) from the
link map."""

from __future__ import annotations

import re
import struct
import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

_SHF_ALLOC = 0x2
_SHT_NOBITS = 8
FLASH_OUTPUT_SECTIONS = (".text", ".ARM.exidx", ".ARM.extab", ".init_array", ".data")
_INPUT_FULL = re.compile(r"^ (\S+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_INPUT_CONTINUED = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
_OUTPUT_SECTION = re.compile(r"^(\.\S+)(?:\s|$)")


@dataclass(frozen=True)
class ImageSizes:
    flash_bytes: int  # text + rodata + the .data load image: what is programmed into flash
    static_ram_bytes: int  # .data + .bss, the tensor arena included
    text_bytes: int
    data_bytes: int
    bss_bytes: int
    arena_bytes: int  # the tensor_arena array inside .bss
    flash_breakdown: dict[str, int]  # input-section bytes by origin (before string merging)

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def elf_sections(elf: Path) -> dict[str, tuple[int, bool]]:
    """Allocated sections of a 32-bit little-endian ELF: name -> (size, occupies file bytes)."""
    data = elf.read_bytes()
    if data[:4] != b"\x7fELF" or data[4] != 1:
        raise ValueError(f"{elf} is not a 32-bit ELF file")
    shoff = struct.unpack_from("<I", data, 0x20)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x2E)
    headers = [struct.unpack_from("<IIIIIIIIII", data, shoff + i * shentsize) for i in range(shnum)]
    names_offset = headers[shstrndx][4]
    out = {}
    for name_index, kind, flags, _addr, _offset, size, *_ in headers:
        if flags & _SHF_ALLOC:
            end = data.index(b"\0", names_offset + name_index)
            name = data[names_offset + name_index : end].decode()
            out[name] = (size, kind != _SHT_NOBITS)
    return out


def symbol_size(nm: str, elf: Path, symbol: str) -> int:
    for line in subprocess.run(
        [nm, "-S", "-C", str(elf)], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[3].split("::")[-1] == symbol:
            return int(parts[1], 16)
    return 0


def symbol_address(nm: str, elf: Path, symbol: str) -> int | None:
    for line in subprocess.run(
        [nm, str(elf)], capture_output=True, text=True, check=True
    ).stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == symbol:
            return int(parts[0], 16)
    return None


def _origin(path: str) -> str:
    if "model_data.o" in path:
        return "model array"
    if "libcmsis_nn.a(" in path:
        return "CMSIS-NN"
    if "libtflm_runtime.a(" in path or "libtflm_kernels.a(" in path:
        return "TFLite Micro"
    if "/app/" in path:
        return "application (main, port, startup)"
    return "toolchain libraries (newlib, libgcc, libstdc++, libm)"


def flash_breakdown(map_file: Path) -> dict[str, int]:
    lines = map_file.read_text().splitlines()
    start = next(
        i for i, line in enumerate(lines) if line.startswith("Linker script and memory map")
    )
    totals: Counter[str] = Counter()
    output = None
    i = start
    while i < len(lines):
        line = lines[i]
        match = _OUTPUT_SECTION.match(line)
        if match:
            output = match.group(1)
        if output in FLASH_OUTPUT_SECTIONS:
            full = _INPUT_FULL.match(line)
            size = path = None
            if full and not full.group(1).startswith("*"):
                size, path = int(full.group(3), 16), full.group(4)
            elif re.match(r"^ \.\S+$", line) and i + 1 < len(lines):
                continued = _INPUT_CONTINUED.match(lines[i + 1])
                if continued:
                    size, path = int(continued.group(2), 16), continued.group(3)
                    i += 1
            if size:
                totals[_origin(path)] += size
        i += 1
    return dict(totals.most_common())


def image_sizes(elf: Path, map_file: Path, nm: str) -> ImageSizes:
    sections = elf_sections(elf)
    flash = sum(size for size, in_file in sections.values() if in_file)
    data = sections.get(".data", (0, True))[0]
    bss = sections.get(".bss", (0, False))[0]
    return ImageSizes(
        flash_bytes=flash,
        static_ram_bytes=data + bss,
        text_bytes=flash - data,
        data_bytes=data,
        bss_bytes=bss,
        arena_bytes=symbol_size(nm, elf, "tensor_arena"),
        flash_breakdown=flash_breakdown(map_file),
    )
