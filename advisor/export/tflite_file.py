"""What a .tflite flatbuffer holds: its ops (with shapes, MACs and latency-model class per
op), its tensors' types and its input/output quantization. Read with the schema bundled in
the ``tflite-micro`` package, so that ``advisor check`` needs neither TensorFlow nor torch."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.latency.ops import op_class, op_work

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
class OpInfo:
    """One operator of the first subgraph, in execution order. ``macs``: CONV_2D
    out_h*out_w*out_c*k_h*k_w*in_c, DEPTHWISE_CONV_2D out_h*out_w*out_c*k_h*k_w,
    FULLY_CONNECTED batch*in*out, 0 otherwise (biases not counted); ``op_class`` and
    ``work`` are what the latency model charges (advisor.latency.ops)."""

    index: int
    op: str
    input_shape: tuple[int, ...]  # the first input's
    output_shape: tuple[int, ...]  # the first output's
    kernel_hw: tuple[int, int]  # a convolution's kernel (1, 1) for every other op
    macs: int
    op_class: str
    work: int
    live_bytes: int = 0  # activation tensors alive while it runs (inputs, output, kept ones)


@dataclass(frozen=True)
class TFLiteFile:
    """A parsed .tflite: ``ops`` lists every operator in execution order, ``operators`` the
    same with shapes and MACs."""

    size_bytes: int
    ops: tuple[str, ...]
    tensors: tuple[TensorInfo, ...]
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    num_subgraphs: int
    operators: tuple[OpInfo, ...] = ()

    @property
    def macs(self) -> int:
        return sum(op.macs for op in self.operators)

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
        operators = tuple(
            _operator(i, opcodes[graph.Operators(i).OpcodeIndex()], graph.Operators(i), tensors)
            for i in range(graph.OperatorsLength())
        )
        operators = _with_live_bytes(operators, graph, model, tensors)
        ops = tuple(op.op for op in operators)
        inputs = tuple(tensors[int(i)] for i in graph.InputsAsNumpy())
        outputs = tuple(tensors[int(i)] for i in graph.OutputsAsNumpy())
    except AdvisorError:
        raise
    except Exception as err:  # a corrupt flatbuffer fails anywhere inside the generated reader
        raise AdvisorError(
            f"TFLite model is corrupt or truncated ({type(err).__name__}: {err}); export it again"
        ) from None
    return TFLiteFile(
        len(data), ops, tuple(tensors), inputs, outputs, model.SubgraphsLength(), operators
    )


def _product(shape: tuple[int, ...]) -> int:
    total = 1
    for dim in shape:
        total *= max(int(dim), 1)  # a -1 (dynamic) batch counts as one
    return total


def _operator(index: int, name: str, operator, tensors: list[TensorInfo]) -> OpInfo:
    """Shapes and MACs of one operator, from its tensors (TFLite layouts: CONV_2D filter
    [out_c, k_h, k_w, in_c], DEPTHWISE_CONV_2D filter [1, k_h, k_w, out_c],
    FULLY_CONNECTED weights [out, in])."""
    inputs = [int(i) for i in operator.InputsAsNumpy()] if operator.InputsLength() else []
    outputs = [int(i) for i in operator.OutputsAsNumpy()] if operator.OutputsLength() else []
    shapes = [tensors[i].shape if i >= 0 else () for i in inputs]
    output = tensors[outputs[0]].shape if outputs else ()
    kernel_hw, macs = (1, 1), 0
    weights = shapes[1] if len(shapes) > 1 else ()
    if name == "CONV_2D" and len(weights) == 4:
        kernel_hw = (weights[1], weights[2])
        macs = _product(output) * weights[1] * weights[2] * weights[3]
    elif name == "DEPTHWISE_CONV_2D" and len(weights) == 4:
        kernel_hw = (weights[1], weights[2])
        macs = _product(output) * weights[1] * weights[2]
    elif name == "FULLY_CONNECTED" and len(weights) == 2:
        macs = _product(output) * weights[1]
    cls = op_class(name, kernel_hw)
    input_shape = shapes[0] if shapes else ()
    work = op_work(cls, macs, _product(input_shape), _product(output))
    return OpInfo(index, name, input_shape, output, kernel_hw, macs, cls, int(work))


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


_DTYPE_BYTES = {"INT8": 1, "UINT8": 1, "BOOL": 1, "INT16": 2, "FLOAT16": 2, "INT32": 4}
_DTYPE_BYTES.update({"FLOAT32": 4, "INT64": 8, "FLOAT64": 8})


def _with_live_bytes(operators, graph, model, tensors) -> tuple[OpInfo, ...]:
    """Each op's live activation bytes: every non-constant tensor from the op that writes it
    (the start for model inputs) to the last op that reads it (the end for outputs), as
    TFLite Micro's memory planner keeps them."""
    from dataclasses import replace

    count = graph.OperatorsLength()
    first: dict[int, int] = {int(i): 0 for i in graph.InputsAsNumpy()}
    last: dict[int, int] = {int(i): count - 1 for i in graph.OutputsAsNumpy()}
    for index in range(count):
        operator = graph.Operators(index)
        reads = operator.InputsAsNumpy() if operator.InputsLength() else []
        writes = operator.OutputsAsNumpy() if operator.OutputsLength() else []
        for i in (int(i) for i in reads if i >= 0):
            last[i] = max(last.get(i, index), index)
        for i in (int(i) for i in writes):
            first.setdefault(i, index)
            last.setdefault(i, index)

    def constant(i: int) -> bool:
        buffer = model.Buffers(graph.Tensors(i).Buffer())
        return buffer is not None and buffer.DataLength() > 0

    sizes = {
        i: _product(tensors[i].shape) * _DTYPE_BYTES.get(tensors[i].dtype, 1)
        for i in first
        if not constant(i)
    }
    live = [0] * count
    for i, size in sizes.items():
        for index in range(first[i], last.get(i, first[i]) + 1):
            live[index] += size
    return tuple(replace(op, live_bytes=live[k]) for k, op in enumerate(operators))
