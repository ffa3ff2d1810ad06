"""What a .tflite flatbuffer holds: its ops, its tensors' types and its input/output
quantization. Read with the schema bundled in the ``tflite-micro`` package, so that
``advisor check`` needs neither TensorFlow nor torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.errors import AdvisorError

# Ops that betray a partly float or layout-converted graph (see `full_int8_problems`).
FORBIDDEN_OPS = ("TRANSPOSE", "QUANTIZE", "DEQUANTIZE")


@dataclass(frozen=True)
class TensorInfo:
    name: str
    shape: tuple[int, ...]
    dtype: str  # TFLite TensorType name: INT8, INT32, FLOAT32, ...
    scales: tuple[float, ...]
    zero_points: tuple[int, ...]

    @property
    def scale(self) -> float:
        """The per-tensor scale (inputs and outputs are quantized per tensor)."""
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclass(frozen=True)
class TFLiteFile:
    """A parsed .tflite: ``ops`` lists every operator in execution order."""

    size_bytes: int
    ops: tuple[str, ...]
    tensors: tuple[TensorInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    num_subgraphs: int

    @property
    def op_types(self) -> tuple[str, ...]:
        """Distinct op names, sorted: what a MicroMutableOpResolver must register."""
        return tuple(sorted(set(self.ops)))


def _names(enum_class: type) -> dict[int, str]:
    return {value: name for name, value in vars(enum_class).items() if not name.startswith("_")}


def read_tflite(data: bytes | bytearray | str | Path) -> TFLiteFile:
    """Parse a .tflite from bytes or a path; AdvisorError if it is not a TFLite flatbuffer."""
    if isinstance(data, (str, Path)):
        path = Path(data)
        if not path.is_file():
            raise AdvisorError(f"model file {path} does not exist; pass the path of a .tflite file")
        data = path.read_bytes()
    data = bytes(data)
    # A TFLite flatbuffer carries the file identifier "TFL3" at bytes 4..8.
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise AdvisorError(
            "not a TFLite model (no 'TFL3' flatbuffer identifier); pass a .tflite "
            "file written by the TFLite converter, e.g. by `advisor build`"
        )
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema

    try:
        model = schema.Model.GetRootAsModel(data, 0)
        op_names = _names(schema.BuiltinOperator)
        type_names = _names(schema.TensorType)
        opcodes = []
        for i in range(model.OperatorCodesLength()):
            code = model.OperatorCodes(i)
            builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
            name = op_names.get(builtin, f"BUILTIN_{builtin}")
            if name == "CUSTOM":
                name = f"CUSTOM:{(code.CustomCode() or b'?').decode()}"
            opcodes.append(name)
        if model.SubgraphsLength() < 1:
            raise AdvisorError("TFLite model has no subgraph")
        graph = model.Subgraphs(0)
        tensors = []
        for i in range(graph.TensorsLength()):
            tensor = graph.Tensors(i)
            quant = tensor.Quantization()
            scales = (
                tuple(float(s) for s in quant.ScaleAsNumpy())
                if quant and quant.ScaleLength()
                else ()
            )
            zeros = (
                tuple(int(z) for z in quant.ZeroPointAsNumpy())
                if quant and quant.ZeroPointLength()
                else ()
            )
            shape = tuple(int(d) for d in tensor.ShapeAsNumpy()) if tensor.ShapeLength() else ()
            tensors.append(
                TensorInfo(
                    (tensor.Name() or b"").decode(errors="replace"),
                    shape,
                    type_names.get(tensor.Type(), str(tensor.Type())),
                    scales,
                    zeros,
                )
            )
        ops = tuple(
            opcodes[graph.Operators(i).OpcodeIndex()] for i in range(graph.OperatorsLength())
        )
        inputs = tuple(tensors[int(i)] for i in graph.InputsAsNumpy())
        outputs = tuple(tensors[int(i)] for i in graph.OutputsAsNumpy())
    except AdvisorError:
        raise
    except Exception as err:  # a corrupt flatbuffer fails anywhere inside the generated reader
        raise AdvisorError(
            f"TFLite model is corrupt or truncated ({type(err).__name__}: {err}); export it again"
        ) from None
    return TFLiteFile(len(data), ops, tuple(tensors), inputs, outputs, model.SubgraphsLength())


def full_int8_problems(model: TFLiteFile) -> list[str]:
    """Why a model is not a full-integer int8 NHWC graph (empty when it is)."""
    problems = [f"graph contains {op} ops" for op in FORBIDDEN_OPS if op in model.ops]
    problems += [
        f"{kind} {t.name!r} is {t.dtype}, not INT8"
        for kind, group in (("input", model.inputs), ("output", model.outputs))
        for t in group
        if t.dtype != "INT8"
    ]
    problems += [
        f"tensor {t.name!r} is {t.dtype}" for t in model.tensors if t.dtype not in ("INT8", "INT32")
    ]
    return problems
