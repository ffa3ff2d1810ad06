"""A child process that runs TFLite Micro for :mod:`advisor.export.tflm`.

TFLM's host build can corrupt memory when an arena is too small (an unsigned underflow in
its tail allocator, then a segfault at a later allocation), so every interpreter lives in
this separate process; the parent treats a crash as "does not run in this arena".

Protocol: argv[1] is the .tflite path; each stdin line is a JSON request
``{"arena": N, "allocations": bool, "inputs": npy path or null, "outputs": npy path}``;
each reply is one JSON line ``{"ok": bool, "log": str, "allocations": str}``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator


@contextlib.contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Capture what the C++ runtime writes to file descriptor 2 (its MicroPrintf)."""
    captured: list[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield captured
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            captured.append(sink.read().decode(errors="replace"))


def _serve(model: bytes, request: dict) -> dict:
    import numpy as np
    from tflite_micro.python.tflite_micro import runtime

    reply = {"ok": False, "log": "", "allocations": ""}
    with captured_stderr() as log:
        try:
            interpreter = runtime.Interpreter.from_bytes(model, arena_size=int(request["arena"]))
            details = interpreter.get_input_details(0)
            if request.get("inputs"):
                outputs = []
                for sample in np.load(request["inputs"]):
                    interpreter.set_input(sample[None].astype(details["dtype"]), 0)
                    interpreter.invoke()
                    outputs.append(np.array(interpreter.get_output(0))[0])
                np.save(request["outputs"], np.stack(outputs))
            else:
                interpreter.set_input(np.zeros(details["shape"], details["dtype"]), 0)
                interpreter.invoke()
            reply["ok"] = True
        except (RuntimeError, ValueError) as err:
            print(f"{type(err).__name__}: {err}", file=sys.stderr)
    reply["log"] = log[0]
    if reply["ok"] and request.get("allocations"):
        with captured_stderr() as text:
            interpreter.print_allocations()
        reply["allocations"] = text[0]
    return reply


def main() -> None:
    with open(sys.argv[1], "rb") as file:
        model = file.read()
    for line in sys.stdin:
        reply = _serve(model, json.loads(line))
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
