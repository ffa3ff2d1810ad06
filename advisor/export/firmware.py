"""The firmware bundle: the model as a 16-byte-aligned C array, a config header with the
measured arena, quantization parameters, labels and the exact op list, a TFLite Micro
``main.cc`` and its port layer (``port.h``: board bring-up, console, input images, timing;
``port_generic.cc`` a starting point), rendered from the Jinja2 templates in
``advisor/export/firmware_templates/``. ``advisor.firmware`` compiles the same ``main.cc``
with a QEMU port and runs it on an emulated Cortex-M.

The array is written here rather than with tinymlgen: tinymlgen 0.2 converts a Keras
model itself (dynamic-range quantization only, no representative dataset) and cannot
take an existing full-int8 .tflite; it also aligns the array to 4 bytes, not 16.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor import __version__
from advisor.errors import AdvisorError
from advisor.export.tflite_file import read_tflite
from advisor.export.tflm import ArenaMeasurement, resolver_method

FILES = ("model_data.h", "model_data.cc", "model_config.h", "main.cc", "port.h", "port_generic.cc")
SYMBOL = "g_model_data"
_BYTES_PER_LINE = 12


def firmware_arena_size(measured_bytes: int, limit: int | None = None) -> int:
    """The arena firmware should declare: the measured minimum plus max(1 KiB, 5 %), in
    whole 16-byte units (TFLM aligns every buffer to 16), capped at ``limit`` (the board's
    arena budget) when the measured minimum fits under it."""
    margin = max(1024, math.ceil(measured_bytes * 0.05))
    size = math.ceil((measured_bytes + margin) / 16) * 16
    if limit is not None and measured_bytes <= limit < size:
        return max(measured_bytes, limit // 16 * 16)
    return size


def tflm_version() -> str:
    try:
        from tflite_micro.python.tflite_micro._version import __version__ as version
    except ImportError:
        return "unknown"
    return str(version)


def _c_escape(text: str, backslash: str) -> str:
    """``text`` as printable ASCII for C source: every other byte of its UTF-8 (surrogate-
    escaped bytes of an undecodable file name included) as a 3-digit octal escape, which, unlike
    a hex escape, never swallows a following digit. The second ``?`` of ``??`` (a trigraph
    start) and the ``/`` of ``*/`` are escaped too."""
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that is not an undecodable byte
        data = text.encode("utf-8", "surrogatepass")
    out: list[str] = []
    for byte in data:
        char = chr(byte)
        previous = out[-1][-1] if out else ""
        if char == "\\":
            out.append(backslash)
        elif char == '"':
            out.append('\\"')
        elif (char == "?" and previous == "?") or (char == "/" and previous == "*"):
            out.append(f"\\{byte:03o}")
        elif 0x20 <= byte < 0x7F:
            out.append(char)
        else:
            out.append(f"\\{byte:03o}")
    return "".join(out)


def c_string(text: str) -> str:
    """The body of a C/C++ string literal that holds the bytes of ``text`` (UTF-8) exactly."""
    return _c_escape(text, "\\\\")


def c_comment(text: str) -> str:
    """``text`` safe inside a ``//`` or ``/* */`` comment: printable ASCII, no ``*/``, no
    trigraph, and no backslash (one at a line's end would splice the next line into the
    comment), escaped as in a string literal."""
    return _c_escape(text, "\\134")


def _c_float(value: float) -> str:
    text = f"{value:.9g}"
    return text if any(c in text for c in ".e") else text + ".0"


@dataclass(frozen=True)
class FirmwareBundle:
    directory: Path
    files: tuple[Path, ...]
    arena_size: int
    resolver_methods: tuple[str, ...] = ()  # what RegisterModelOps calls on its resolver


def write_firmware(
    directory: str | Path,
    model: bytes,
    arena: ArenaMeasurement,
    labels: Sequence[str] | None = None,
    *,
    model_name: str = "model.tflite",
    preprocessing: str = "",
    arena_limit: int | None = None,
) -> FirmwareBundle:
    """Render the four firmware files for ``model`` into ``directory``; ``arena_limit``
    caps the declared arena (see :func:`firmware_arena_size`)."""
    import jinja2

    info = read_tflite(model)
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        raise AdvisorError("the firmware templates expect one input and one output tensor")
    input_tensor, output_tensor = info.inputs[0], info.outputs[0]
    if len(input_tensor.shape) != 4:
        raise AdvisorError(f"expected an NHWC image input, got shape {input_tensor.shape}")
    num_classes = int(math.prod(output_tensor.shape[1:]))
    labels = list(labels) if labels is not None else [f"class_{i}" for i in range(num_classes)]
    if len(labels) != num_classes:
        raise AdvisorError(
            f"{len(labels)} class labels given but the model has {num_classes} outputs"
        )

    hex_bytes = [f"0x{byte:02x}," for byte in model]
    context = {
        "version": __version__,
        "tflm_version": tflm_version(),
        "guard": "ADVISOR",
        "symbol": SYMBOL,
        "model_name": c_comment(model_name),
        "model_bytes": len(model),
        "sha256": hashlib.sha256(model).hexdigest(),
        "hex_lines": [
            " ".join(hex_bytes[i : i + _BYTES_PER_LINE])
            for i in range(0, len(hex_bytes), _BYTES_PER_LINE)
        ],
        "arena_measured": arena.arena_bytes,
        "arena_size": firmware_arena_size(arena.arena_bytes, arena_limit),
        "arena_margin": firmware_arena_size(arena.arena_bytes, arena_limit) - arena.arena_bytes,
        "pointer_structs": arena.pointer_structs_bytes,
        "input_shape": input_tensor.shape,
        "input_scale": _c_float(input_tensor.scale),
        "input_zero_point": input_tensor.zero_point,
        "output_scale": _c_float(output_tensor.scale),
        "output_zero_point": output_tensor.zero_point,
        "labels": [c_string(str(label)) for label in labels],
        "ops": [(op, resolver_method(op)) for op in info.op_types],
        "preprocessing": c_comment(preprocessing),
    }
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("advisor.export", "firmware_templates"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    rendered = {name: environment.get_template(name + ".j2").render(context) for name in FILES}
    directory = Path(directory)
    write_bundle_atomic(directory, rendered)
    return FirmwareBundle(
        directory,
        tuple(directory / name for name in FILES),
        context["arena_size"],
        tuple(method for _, method in context["ops"]),
    )


def write_bundle_atomic(directory: Path, files: dict[str, str]) -> None:
    """Write ``files`` into a temporary folder beside ``directory``, then rename it into place:
    ``directory`` holds either the old bundle or the whole new one, never half of one."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}."))
    old = None
    try:
        for name, text in files.items():
            (staging / name).write_text(text, encoding="ascii")
        if directory.exists():
            old = Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.old."))
            os.replace(directory, old / directory.name)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


def read_array(model_data_cc: str | Path) -> bytes:
    """The bytes of the C array in a generated model_data.cc (to check it against the .tflite)."""
    text = Path(model_data_cc).read_text()
    body = text[text.index("= {") + 3 : text.index("};")]
    return bytes(int(token, 16) for token in body.replace(",", " ").split())
