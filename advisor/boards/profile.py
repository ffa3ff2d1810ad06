"""One board profile: the budgets a model must fit, read from a TOML file."""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.boards.sizes import parse_frequency, parse_size
from advisor.errors import AdvisorError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

SIZE_FIELDS = (
    "flash_bytes",
    "ram_bytes",
    "ram_total_bytes",
    "reserved_flash_bytes",
    "reserved_ram_bytes",
    "reserved_hal_flash_bytes",
)
POSITIVE_FIELDS = (
    "clock_hz",
    "flash_bytes",
    "ram_bytes",
    "ram_total_bytes",
    "macs_per_cycle",
    "latency_ms",
)
TEXT_FIELDS = ("id", "name", "chip", "core", "runtime", "macs_per_cycle_source", "notes")
OPTIONAL_DEFAULTS: dict[str, Any] = {
    "aliases": (),
    "sources": (),
    "notes": "",
    "ram_total_bytes": None,
    # HAL, drivers and application code outside TFLite Micro: what the flash reserve shrinks
    # to once the emulated firmware image measures the runtime (advisor.firmware).
    "reserved_hal_flash_bytes": "32KB",
}


@dataclass(frozen=True)
class Board:
    """A board's budgets. Sizes are bytes (KB = 1024); `ram_bytes` is the largest contiguous
    RAM block the tensor arena can use, `ram_total_bytes` all of the RAM; the reserves are
    what the runtime and the application keep for themselves. `reserved_flash_bytes` is
    assumed (runtime + HAL + application); once the firmware is built and measured
    (`--emulate`), the runtime is in the measured image and only `reserved_hal_flash_bytes`
    (HAL, drivers, application) is added to it."""

    id: str
    name: str
    chip: str
    core: str
    clock_hz: int
    flash_bytes: int
    ram_bytes: int
    ram_total_bytes: int
    reserved_flash_bytes: int
    reserved_ram_bytes: int
    macs_per_cycle: float
    macs_per_cycle_source: str
    runtime: str
    latency_ms: float
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""
    reserved_hal_flash_bytes: int = 32 * 1024
    path: str | None = None

    def __post_init__(self) -> None:
        _validate(self, where=self.path or "board profile")

    @property
    def flash_budget_bytes(self) -> int:
        """Flash left for the model once the runtime and application are in."""
        return self.flash_bytes - self.reserved_flash_bytes

    @property
    def ram_budget_bytes(self) -> int:
        """Contiguous RAM left for the tensor arena."""
        return self.ram_bytes - self.reserved_ram_bytes

    def mac_budget(self, latency_ms: float | None = None) -> int:
        """int8 MACs the default runtime runs in `latency_ms` (default: the profile's):
        latency x clock x MACs per cycle."""
        latency = self.latency_ms if latency_ms is None else latency_ms
        if isinstance(latency, bool) or not isinstance(latency, (int, float)) or latency <= 0:
            raise AdvisorError(
                f"latency_ms must be a positive number of milliseconds, got {latency!r}"
            )
        return int(latency / 1000 * self.clock_hz * self.macs_per_cycle)

    def with_overrides(self, **fields: Any) -> Board:
        """A copy with `fields` replaced, sizes as ints or strings ("256KB"), validated."""
        unknown = set(fields) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise AdvisorError(_unknown_fields_message(sorted(unknown), f"board {self.id!r}"))
        where = f"override of board {self.id!r}"
        current = {name: getattr(self, name) for name in _FIELD_NAMES}
        return Board(**_normalize({**current, **fields}, where))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, plus the derived budgets; `path` is where it was loaded from."""
        data = dataclasses.asdict(self)
        data["aliases"], data["sources"] = list(self.aliases), list(self.sources)
        data["flash_budget_bytes"] = self.flash_budget_bytes
        data["ram_budget_bytes"] = self.ram_budget_bytes
        data["mac_budget"] = self.mac_budget()
        return data


def board_from_toml(path: str | os.PathLike) -> Board:
    """Read and validate one board profile; errors name the file and the field."""
    path = Path(path)
    try:
        with path.open("rb") as file:
            raw = tomllib.load(file)
    except FileNotFoundError:
        raise AdvisorError(f"board file {path} does not exist: check the path") from None
    except OSError as err:
        raise AdvisorError(f"cannot read board file {path}: {err.strerror}") from None
    except tomllib.TOMLDecodeError as err:
        raise AdvisorError(f"{path}: malformed TOML ({err}): fix the syntax") from None
    settable = set(_FIELD_NAMES) - {"path"}  # path is where the file lies, not a setting
    unknown = sorted(set(raw) - settable)
    if unknown:
        raise AdvisorError(_unknown_fields_message(unknown, str(path)))
    missing = [
        name
        for name in _FIELD_NAMES
        if name not in raw and name not in OPTIONAL_DEFAULTS and name != "path"
    ]
    if missing:
        raise AdvisorError(
            f"{path}: missing field(s) {', '.join(missing)}: add them "
            f"(see the built-in profiles, `advisor boards show stm32h7`)"
        )
    data = {**OPTIONAL_DEFAULTS, **raw, "path": str(path)}
    if data["ram_total_bytes"] is None:
        data["ram_total_bytes"] = data["ram_bytes"]
    return Board(**_normalize(data, str(path)))


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Board))


def _normalize(data: dict[str, Any], where: str) -> dict[str, Any]:
    """Sizes and clocks to ints, lists to tuples; raise naming `where` and the field."""
    out = dict(data)
    for name in (*SIZE_FIELDS, "clock_hz"):
        parse = parse_frequency if name == "clock_hz" else parse_size
        try:
            out[name] = parse(data[name])
        except AdvisorError as err:
            raise AdvisorError(f"{where}: field {name}: {err}") from None
    for name in ("aliases", "sources"):
        value = data[name]
        if isinstance(value, str) or not all(isinstance(item, str) for item in value):
            raise AdvisorError(
                f'{where}: field {name} must be a list of strings, e.g. {name} = ["..."]'
            )
        out[name] = tuple(value)
    for name in ("macs_per_cycle", "latency_ms"):
        value = data[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise AdvisorError(f"{where}: field {name} must be a number, got {value!r}")
        out[name] = float(value)
    return out


def _validate(board: Board, where: str) -> None:
    for name in TEXT_FIELDS:
        if not isinstance(getattr(board, name), str):
            raise AdvisorError(f"{where}: field {name} must be a string")
    for name in ("id", "name", "chip", "core", "runtime"):
        if not getattr(board, name).strip():
            raise AdvisorError(f"{where}: field {name} is empty")
    for name in POSITIVE_FIELDS:
        value = getattr(board, name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise AdvisorError(f"{where}: field {name} must be positive, got {value!r}")
    for name in ("reserved_flash_bytes", "reserved_ram_bytes", "reserved_hal_flash_bytes"):
        value = getattr(board, name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise AdvisorError(
                f"{where}: field {name} must be a whole number of bytes >= 0, got {value!r}"
            )
    if board.ram_total_bytes < board.ram_bytes:
        raise AdvisorError(
            f"{where}: field ram_total_bytes ({board.ram_total_bytes}) is smaller "
            f"than ram_bytes ({board.ram_bytes}): ram_bytes is the largest "
            "contiguous block, ram_total_bytes all of the RAM"
        )
    for reserve, total in (
        ("reserved_flash_bytes", "flash_bytes"),
        ("reserved_ram_bytes", "ram_bytes"),
    ):
        if getattr(board, reserve) >= getattr(board, total):
            raise AdvisorError(
                f"{where}: field {reserve} ({getattr(board, reserve)}) leaves "
                f"nothing of {total} ({getattr(board, total)}): lower it"
            )


def _unknown_fields_message(unknown: list[str], where: str) -> str:
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, _FIELD_NAMES, n=1)
        hints.append(f"{name} (did you mean {close[0]}?)" if close else name)
    return (
        f"{where}: unknown field(s) {', '.join(hints)}; "
        f"known fields: {', '.join(n for n in _FIELD_NAMES if n != 'path')}"
    )
