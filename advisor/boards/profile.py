"""One board profile: the budgets a model must fit, read from a TOML file."""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from advisor.boards.runtime_flash import FlashReserve, flash_reserve
from advisor.boards.sizes import parse_frequency, parse_size
from advisor.errors import AdvisorError
from advisor.files import read_text
from advisor.validation import integer, positive_real

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
    "latency_ms",
)
TEXT_FIELDS = ("id", "name", "chip", "core", "engine", "runtime", "notes")
# Fields of older profiles and what replaced them (named in the error).
REPLACED_FIELDS = {
    "macs_per_cycle": "engine (the latency model per core and engine replaced one MACs/cycle "
    'per board: e.g. engine = "tflm-cmsis-nn"; `advisor boards show stm32h7`)',
    "macs_per_cycle_source": "engine (the latency model names its own sources)",
}
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
    assumed (runtime + HAL + application); where the runtime of the board's core and engine
    was measured in a linked image (advisor/boards/runtime_flash.json) or the firmware is
    built and measured (`--emulate`), the measured runtime and `reserved_hal_flash_bytes`
    (HAL, drivers, application) replace it. `core` is the core family
    and `engine` the inference engine the latency model estimates (advisor.latency);
    `latency_ms` is the latency budget of one inference."""

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
    engine: str
    runtime: str
    latency_ms: float
    aliases: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    notes: str = ""
    reserved_hal_flash_bytes: int = 32 * 1024
    path: str | None = None

    def __post_init__(self) -> None:
        _validate(self, where=self.path or "board profile")

    def flash_reserve(self) -> FlashReserve:
        """What the model may not use: the runtime measured in the linked image for this
        core and engine (advisor/boards/runtime_flash.json) + `reserved_hal_flash_bytes`, or,
        without a measurement, the assumed `reserved_flash_bytes`."""
        return flash_reserve(
            self.core_family,
            self.engine,
            self.reserved_flash_bytes,
            self.reserved_hal_flash_bytes,
        )

    @property
    def flash_budget_bytes(self) -> int:
        """Flash left for the model once the runtime and application are in."""
        return self.flash_bytes - self.flash_reserve().reserve_bytes

    @property
    def flash_budget_source(self) -> str:
        """Where `flash_budget_bytes` comes from, in words."""
        return self.flash_reserve().describe()

    @property
    def ram_budget_bytes(self) -> int:
        """Contiguous RAM left for the tensor arena."""
        return self.ram_bytes - self.reserved_ram_bytes

    @property
    def core_family(self) -> str:
        """The core as the latency model names it (e.g. "Cortex-M0+" -> "cortex-m0plus")."""
        return core_family(self.core)

    def latency_model(self):
        """The latency model of this board's core and engine (advisor.latency.PairModel);
        AdvisorError when the core has no calibration (8-bit AVR)."""
        from advisor.latency import pair_model

        return pair_model(self.core_family, self.engine)

    def latency_note(self) -> str | None:
        """Why this board's latency is less certain than the engine's typical error: no
        published measurement of this chip (the estimate is the core family's)."""
        from advisor.latency import published_boards

        chip = self.chip.upper()[:9]
        if any(chip in board.upper() for board in published_boards()):
            return None
        return (
            f"no published latency of the {self.chip}: estimated from other "
            f"{self.core} chips (memory wait states and caches differ between chips)"
        )

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
        data["flash_reserve"] = self.flash_reserve().to_dict()
        data["flash_budget_bytes"] = self.flash_budget_bytes
        data["flash_budget_source"] = self.flash_budget_source
        data["ram_budget_bytes"] = self.ram_budget_bytes
        data["core_family"] = self.core_family
        try:
            model = self.latency_model()
            data["latency_model"] = model.source
            data["latency_extrapolation"] = model.extrapolation
        except AdvisorError as err:
            data["latency_model"] = f"unavailable: {err}"
        data["latency_note"] = self.latency_note()
        return data


_CORE_ALIASES = {"cortex-m4": "cortex-m4f", "xtensa": "xtensa-lx7", "lx7": "xtensa-lx7"}


def core_family(core: str) -> str:
    """A core's family id: lower case, "+" spelled "plus", spaces as dashes."""
    text = core.strip().lower().replace("+", "plus").replace(" ", "-")
    return _CORE_ALIASES.get(text, text)


def board_from_toml(path: str | os.PathLike) -> Board:
    """Read and validate one board profile; errors name the file and the field."""
    path = Path(path)
    text = read_text(path, "board file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise AdvisorError(f"{path}: malformed TOML ({err}): fix the syntax") from None
    settable = set(_FIELD_NAMES) - {"path"}  # path is where the file lies, not a setting
    unknown = sorted(set(raw) - settable)
    replaced = [name for name in unknown if name in REPLACED_FIELDS]
    if replaced:
        raise AdvisorError(
            f"{path}: field {replaced[0]} is no longer used: replace it with "
            f"{REPLACED_FIELDS[replaced[0]]}"
        )
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
        if not isinstance(value, (list, tuple)) or not all(isinstance(i, str) for i in value):
            raise AdvisorError(
                f'{where}: field {name} must be a list of strings, e.g. {name} = ["..."]'
            )
        out[name] = tuple(value)
    for name, example in (("latency_ms", "100"),):
        if isinstance(data[name], str):
            raise AdvisorError(
                f"{where}: field {name} must be a number, got {data[name]!r}: write "
                f"{name} = {example} (no quotes)"
            )
        out[name] = positive_real(
            data[name],
            f"{where}: field {name}",
            fix=f"write a finite number, e.g. {name} = {example}",
        )
    return out


def _validate(board: Board, where: str) -> None:
    for name in TEXT_FIELDS:
        if not isinstance(getattr(board, name), str):
            raise AdvisorError(f"{where}: field {name} must be a string")
    for name in ("id", "name", "chip", "core", "engine", "runtime"):
        if not getattr(board, name).strip():
            raise AdvisorError(f"{where}: field {name} is empty")
    from advisor.latency import known_cores, known_engines

    if board.core_family not in known_cores():
        raise AdvisorError(
            f"{where}: field core {board.core!r} is not a core family the latency model "
            f"knows; use one of {', '.join(known_cores())}"
        )
    if board.engine not in known_engines():
        raise AdvisorError(
            f"{where}: field engine {board.engine!r} is not a known inference engine; use "
            f"one of {', '.join(known_engines())}"
        )
    for name in POSITIVE_FIELDS:
        positive_real(getattr(board, name), f"{where}: field {name}", fix="give a positive value")
    for name in ("reserved_flash_bytes", "reserved_ram_bytes", "reserved_hal_flash_bytes"):
        integer(getattr(board, name), f"{where}: field {name}", low=0, fix="a number of bytes")
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
