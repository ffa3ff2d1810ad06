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


def _c_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _c_float(value: float) -> str:
    text = f"{value:.9g}"
    return text if any(c in text for c in ".e") else text + ".0"


@dataclass(frozen=True)
class FirmwareBundle:
    directory: Path
    files: tuple[Path, ...]
    arena_size: int


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
        "model_name": _c_string(model_name),
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
        "labels": [_c_string(str(label)) for label in labels],
        "ops": [(op, resolver_method(op)) for op in info.op_types],
        "preprocessing": _c_string(preprocessing),
    }
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("advisor.export", "firmware_templates"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in FILES:
        path = directory / name
        path.write_text(environment.get_template(name + ".j2").render(context))
        written.append(path)
    return FirmwareBundle(directory, tuple(written), context["arena_size"])


def read_array(model_data_cc: str | Path) -> bytes:
    """The bytes of the C array in a generated model_data.cc (to check it against the .tflite)."""
    text = Path(model_data_cc).read_text()
    body = text[text.index("= {") + 3 : text.index("};")]
    return bytes(int(token, 16) for token in body.replace(",", " ").split())
