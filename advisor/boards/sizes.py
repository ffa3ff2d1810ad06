"""Byte sizes and clock frequencies as board profiles write them.

A size is an integer number of bytes or a string such as "512KB", "2 MiB", "32256" or
"1.5MB". Units follow MCU datasheets and PlatformIO manifests: 1 KB = 1 KiB = 1024 bytes,
1 MB = 1 MiB = 1024 KiB (a datasheet's "512 KB SRAM" is 524,288 bytes). Commas are not
accepted as thousands separators ("32,256" reads as 32.256 in half the world); write
32256, 32_256 (TOML) or "31.5KB".
"""

from __future__ import annotations

import numbers
import re

from advisor.errors import AdvisorError
from advisor.validation import integer

SIZE_UNITS = {
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
FREQUENCY_UNITS = {"hz": 1, "khz": 10**3, "mhz": 10**6, "ghz": 10**9}

_UNIT_NAMES = {
    "b": "B",
    "k": "K",
    "kb": "KB",
    "kib": "KiB",
    "m": "M",
    "mb": "MB",
    "mib": "MiB",
    "g": "G",
    "gb": "GB",
    "gib": "GiB",
    "hz": "Hz",
    "khz": "kHz",
    "mhz": "MHz",
    "ghz": "GHz",
}
_QUANTITY = re.compile(r"^\s*(\d+(?:_\d+)*(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(value: int | str) -> int:
    """Bytes in `value`: an int, or a string like "512KB", "2MiB", "96 kB", "32256"."""
    return _parse_quantity(value, SIZE_UNITS, "size", 'e.g. 32256, "512KB" or "2MiB"')


def parse_frequency(value: int | str) -> int:
    """Hertz in `value`: an int, or a string like "480MHz", "1.4 GHz", "16000000"."""
    return _parse_quantity(value, FREQUENCY_UNITS, "frequency", 'e.g. 480000000 or "480MHz"')


def format_size(num_bytes: int) -> str:
    """ "512 KiB", "1.5 MiB", "32256 B": exact where the value is a whole number of the unit."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if num_bytes >= factor:
            value = num_bytes / factor
            return f"{value:.0f} {unit}" if num_bytes % factor == 0 else f"{value:.1f} {unit}"
    return f"{num_bytes} B"


def format_frequency(hertz: int) -> str:
    for unit, factor in (("GHz", 10**9), ("MHz", 10**6), ("kHz", 10**3)):
        if hertz >= factor:
            return f"{hertz / factor:g} {unit}"
    return f"{hertz} Hz"


def _parse_quantity(value: int | str, units: dict[str, int], kind: str, example: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, str)):
        raise AdvisorError(f"{kind} {value!r} is not an integer or a string ({example})")
    if isinstance(value, numbers.Integral):  # numpy integers too
        return integer(value, kind, low=0, fix=f"a {kind} is not negative ({example})")
    match = _QUANTITY.match(value)
    if match is None:
        raise AdvisorError(
            f"cannot read {kind} {value!r}: write a number and a unit, {example} "
            "(no thousands commas)"
        )
    number, unit = match.group(1).replace("_", ""), match.group(2).lower()
    if unit not in units and unit != "":
        known = ", ".join(_UNIT_NAMES[unit_name] for unit_name in units)
        raise AdvisorError(
            f"unknown unit {match.group(2)!r} in {kind} {value!r}: use one of {known}"
        )
    factor = units.get(unit, 1)
    numerator, _, fraction = number.partition(".")
    scale = 10 ** len(fraction)
    total = int(numerator + fraction) * factor
    if total % scale:
        raise AdvisorError(f"{kind} {value!r} is not a whole number of units ({example})")
    return total // scale
