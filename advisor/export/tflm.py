"""Run a .tflite in the real TFLite Micro interpreter (PyPI ``tflite-micro``): the minimal
tensor arena, the ops it supports, and int8 inference.

The interpreter is TFLM's C++ built for the host (x86-64). Its activation plan (the arena's
"head": every intermediate tensor, 16-byte aligned) is the same on a 32-bit MCU; its
persistent "tail" holds structs with pointers (TfLiteEvalTensor, TfLiteNode, op data),
which are about half as large on a 32-bit MCU. The host figure is therefore an upper bound
for the MCU, and it is used uncorrected (see ``ArenaMeasurement.pointer_structs_bytes``).

Each interpreter runs in a child process (:mod:`advisor.export.tflm_worker`): the host build
can segfault when given too small an arena.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass

import numpy as np

from advisor.errors import AdvisorError

# Ops whose MicroMutableOpResolver method is not "Add" + the CamelCase of the op name
# (checked against TFLM's micro_mutable_op_resolver.h by tests/export/test_export_firmware.py).
_RESOLVER_METHODS = {
    "BATCH_MATMUL": "AddBatchMatMul",
    "CUMSUM": "AddCumSum",
    "CONV_2D": "AddConv2D",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "MAX_POOL_2D": "AddMaxPool2D",
    "L2_POOL_2D": "AddL2Pool2D",
    "RELU6": "AddRelu6",
    "PADV2": "AddPadV2",
    "ADD_N": "AddAddN",
    "SPLIT_V": "AddSplitV",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "GATHER_ND": "AddGatherNd",
    "L2_NORMALIZATION": "AddL2Normalization",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
}

# What TFLM's op resolver prints when a model holds an op it has no kernel for.
_UNSUPPORTED = re.compile(
    r"Didn't find op for builtin opcode '([A-Z0-9_]+)'"
    r"|Failed to get registration from op code ([A-Z0-9_:]+)"
)
_ALLOCATION = re.compile(r"\[RecordingMicroAllocator\] (.+?) (?:used )?(\d+) bytes")


def resolver_method(op: str) -> str:
    """The ``tflite::MicroMutableOpResolver`` method that registers a builtin op."""
    if op in _RESOLVER_METHODS:
        return _RESOLVER_METHODS[op]
    return "Add" + "".join(part.capitalize() for part in op.split("_"))


class _Worker:
    """A TFLM child process (see :mod:`advisor.export.tflm_worker`), restarted after a crash."""

    def __init__(self, model: bytes) -> None:
        try:
            import tflite_micro  # noqa: F401  (fail here, with a fix, rather than in the child)
        except ImportError as err:
            raise AdvisorError(
                f"TFLite Micro is not installed ({err}); install the export "
                "extra: pip install 'mcu-advisor[export]'"
            ) from None
        self._directory = tempfile.TemporaryDirectory(prefix="advisor-tflm-")
        self.model_path = os.path.join(self._directory.name, "model.tflite")
        with open(self.model_path, "wb") as file:
            file.write(model)
        self._log_path = os.path.join(self._directory.name, "worker.log")
        self._process: subprocess.Popen | None = None

    def request(
        self,
        arena: int,
        *,
        allocations: bool = False,
        inputs: str | None = None,
        outputs: str | None = None,
    ) -> dict:
        if self._process is None:
            with open(self._log_path, "wb") as log:  # the child's traceback, when it dies
                self._process = subprocess.Popen(
                    [sys.executable, "-m", "advisor.export.tflm_worker", self.model_path],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=log,
                    text=True,
                )
        message = {"arena": arena, "allocations": allocations, "inputs": inputs, "outputs": outputs}
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()
        line = self._process.stdout.readline()
        if not line:  # the interpreter crashed the child
            code = self._process.wait()
            self._process = None
            with open(self._log_path, "rb") as log:
                lines = log.read().decode("utf-8", "replace").strip().splitlines()
            return {
                "ok": False,
                "log": f"TFLite Micro crashed (exit code {code})",
                "allocations": "",
                "crashed": True,
                "exit_code": code,
                "error": lines[-1] if lines else "",
            }
        return json.loads(line)

    def close(self) -> None:
        if self._process is not None:
            self._process.stdin.close()
            self._process.wait()
            self._process = None
        self._directory.cleanup()

    def __enter__(self) -> _Worker:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _raise_if_unsupported(log: str) -> None:
    match = _UNSUPPORTED.search(log)
    if match:
        op = next(group for group in match.groups() if group)
        raise AdvisorError(
            f"TFLite Micro does not support op {op}; re-export the model without "
            "it (advisor's PhiNet export uses only TFLM builtins)"
        )


def _raise_if_the_model_is_broken(reply: dict, limit: int | None = None) -> None:
    """The .tflite is at fault, not the arena, when the child exits with an error (a Python
    exception while loading, not a signal), when the interpreter's wrapper refuses the
    model's tensors (a ValueError: TFLM's own allocation failures are RuntimeErrors), or
    when the model fails even in the largest arena tried (`limit`, when given)."""
    lines = reply["log"].strip().splitlines()
    if reply.get("crashed") and reply.get("exit_code", 0) > 0:
        detail = reply.get("error") or reply["log"].strip()
    elif any(line.startswith("ValueError:") for line in lines):
        detail = next(line for line in lines if line.startswith("ValueError:"))
    elif limit is not None:
        detail = reply.get("error") or (lines[-1] if lines else "no message")
        detail = f"{detail}, even in a {limit:,} B arena"
    else:
        return
    raise AdvisorError(
        f"TFLite Micro cannot load the model ({detail}): the .tflite is corrupt or not a "
        "model TFLite Micro reads, whatever the arena size; export it again (advisor "
        "build) or check the file you passed"
    )


@dataclass(frozen=True)
class ArenaMeasurement:
    """The smallest tensor arena TFLM ran the model in, and how it splits.

    ``head_bytes`` is the activation plan (same on a 32-bit MCU); ``tail_bytes`` the
    persistent allocations; ``pointer_structs_bytes`` the part of the tail made of
    pointer-holding structs (eval tensors, node structs, persistent TfLiteTensors), which
    shrinks on a 32-bit MCU."""

    arena_bytes: int
    head_bytes: int
    tail_bytes: int
    pointer_structs_bytes: int
    allocations: str  # print_allocations() text


# The largest arena `minimal_arena` tries: no board has more RAM, and no PhiNet needs it.
_LIMIT = 1 << 30
_LIMIT_TEXT = "1 GiB"


def minimal_arena(model: bytes, *, granularity: int = 16, limit: int = _LIMIT) -> ArenaMeasurement:
    """Binary-search the smallest arena (a multiple of ``granularity``) in which TFLM
    allocates and invokes ``model``. Raises AdvisorError naming an unsupported op."""
    with _Worker(model) as worker:
        high = max(4096, 4 * len(model)) // granularity * granularity
        while True:
            reply = worker.request(high)
            if reply["ok"]:
                break
            _raise_if_unsupported(reply["log"])
            _raise_if_the_model_is_broken(reply, limit if high >= limit else None)
            high = min(limit, high * 4)
        low = 0  # largest size known to fail
        while high - low > granularity:
            middle = (low + high) // 2 // granularity * granularity
            if middle <= low:
                break
            if worker.request(middle)["ok"]:
                high = middle
            else:
                low = middle
        reply = worker.request(high, allocations=True)
    if not reply["ok"]:
        raise AdvisorError(
            f"TFLite Micro ran the model in {high:,} B once but not again; "
            "its arena cannot be measured reliably"
        )
    return _parse_allocations(high, reply["allocations"])


def _parse_allocations(arena_bytes: int, text: str) -> ArenaMeasurement:
    figures: dict[str, int] = {}
    for label, value in _ALLOCATION.findall(text):
        figures[label.strip()] = int(value)
    pointer_structs = sum(
        v
        for k, v in figures.items()
        if k.startswith(
            (
                "'TfLiteEvalTensor data'",
                "'NodeAndRegistration struct'",
                "'Persistent TfLiteTensor data'",
            )
        )
    )
    return ArenaMeasurement(
        arena_bytes=arena_bytes,
        head_bytes=figures.get("Arena allocation head", 0),
        tail_bytes=figures.get("Arena allocation tail", 0),
        pointer_structs_bytes=pointer_structs,
        allocations=text.strip(),
    )


def run_tflm(model: bytes, inputs: np.ndarray, arena_size: int) -> np.ndarray:
    """Run a batch of already-quantized inputs (N, H, W, C) one by one; int outputs (N, ...)."""
    with _Worker(model) as worker:
        inputs_path = os.path.join(os.path.dirname(worker.model_path), "inputs.npy")
        outputs_path = os.path.join(os.path.dirname(worker.model_path), "outputs.npy")
        np.save(inputs_path, np.asarray(inputs))
        reply = worker.request(arena_size, inputs=inputs_path, outputs=outputs_path)
        if not reply["ok"]:
            _raise_if_unsupported(reply["log"])
            _raise_if_the_model_is_broken(reply)
            raise AdvisorError(
                f"TFLite Micro could not run the model in a {arena_size:,} B arena: "
                f"{reply['log'].strip()[-300:]}"
            )
        return np.load(outputs_path)
