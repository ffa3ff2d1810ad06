"""Run a firmware ELF under ``qemu-system-arm`` with semihosting, and count the guest
instructions executed in each inference and in each op of the first inference with a TCG
plugin (``mps2/icount_plugin.c`` beside this module, compiled with the host C compiler into
the cache; it extends the TFLite Micro tree's ``tools/qemu_icount_plugin.c``, which keeps
64 snapshots, to any number of snapshots and a second marker for ops).

QEMU does not model timing: the counts are instructions executed, not cycles or time."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError
from advisor.firmware.toolchain import Toolchain

MARK_SYMBOL = "advisor_icount_mark"
OP_MARK_SYMBOL = "advisor_op_mark"
_LINE = re.compile(r"^advisor: (\w+) (.*)$")
_SNAPSHOT = re.compile(r"^icount: (mark|op) (\d+) (\d+)$")
_TOTAL = re.compile(r"^icount: total (\d+)$")


@dataclass
class QemuRun:
    exit_code: int
    outputs: np.ndarray  # (images, classes) int8
    classes: list[int]
    arena_used_bytes: int | None
    stack_used_bytes: int | None
    errors: list[str]
    instructions_per_inference: list[int] = field(default_factory=list)
    instructions_per_op: list[tuple[str, int]] = field(default_factory=list)  # first inference
    instructions_total: int | None = None
    seconds: float = 0.0
    log: str = ""


def plugin_library(toolchain: Toolchain, cache_root: Path) -> Path | None:
    """The compiled plugin, or None when there is no host C compiler."""
    if toolchain.host_cc is None:
        return None
    source = resources.files("advisor.firmware") / "mps2" / "icount_plugin.c"
    text = source.read_text()
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    library = cache_root / f"qemu-icount-{digest}.so"
    if not library.is_file():
        library.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=library.parent))
        (work / "icount_plugin.c").write_text(text)
        subprocess.run(
            [
                toolchain.host_cc,
                "-shared",
                "-fPIC",
                "-O2",
                "-o",
                str(work / "icount.so"),
                str(work / "icount_plugin.c"),
            ],
            check=True,
            capture_output=True,
        )
        (work / "icount.so").replace(library)
        shutil.rmtree(work, ignore_errors=True)
    return library


def run_qemu(
    elf: Path,
    *,
    machine: str,
    toolchain: Toolchain,
    work: Path,
    classes: int,
    plugin: Path | None = None,
    mark_address: int | None = None,
    op_mark_address: int | None = None,
    timeout: float = 600,
) -> QemuRun:
    command = [
        toolchain.qemu,
        "-M",
        machine,
        "-nographic",
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-kernel",
        str(elf),
    ]
    if plugin is not None and mark_address is not None:
        arguments = f"{plugin},mark={mark_address:#x}"
        if op_mark_address is not None:
            arguments += f",op={op_mark_address:#x}"
        command[1:1] = ["-plugin", arguments]
    started = time.perf_counter()
    try:
        result = subprocess.run(
            command, cwd=work, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        raise AdvisorError(
            f"the firmware did not finish in QEMU within {timeout:.0f} s ({machine})"
        ) from None
    seconds = time.perf_counter() - started
    return parse_output(result.stdout, result.stderr, result.returncode, classes, seconds)


def parse_output(stdout: str, stderr: str, code: int, classes: int, seconds: float) -> QemuRun:
    values: dict[int, dict[int, list[int]]] = {}
    found: dict[int, int] = {}
    figures: dict[str, int] = {}
    op_names: dict[int, str] = {}
    errors = []
    for raw in stdout.splitlines():
        match = _LINE.match(raw.strip())
        if not match:
            continue
        key, rest = match.groups()
        if key == "output":
            head, _, numbers = rest.partition(":")
            image, start = (int(x) for x in head.split())
            values.setdefault(image, {})[start] = [int(x) for x in numbers.split()]
        elif key == "class":
            image, best = rest.split()[:2]
            found[int(image)] = int(best)
        elif key == "error":
            errors.append(rest)
        elif key == "op_name":
            index, _, name = rest.partition(" ")
            op_names[int(index)] = name.strip()
        elif rest.strip().lstrip("-").isdigit():
            figures[key] = int(rest)
    for raw in stderr.splitlines():
        if raw.startswith("advisor: error"):
            errors.append(raw[len("advisor: error ") :])
    rows = []
    for image in sorted(values):
        row = [v for start in sorted(values[image]) for v in values[image][start]]
        if len(row) != classes:
            errors.append(f"image {image}: {len(row)} output values, expected {classes}")
        rows.append(row[:classes] + [0] * (classes - len(row)))
    snapshots: dict[str, list[int]] = {"mark": [], "op": []}
    for raw in stderr.splitlines():
        snapshot = _SNAPSHOT.match(raw.strip())
        if snapshot:
            snapshots[snapshot.group(1)].append(int(snapshot.group(3)))
    total = next((int(m.group(1)) for m in map(_TOTAL.match, stderr.splitlines()) if m), None)
    return QemuRun(
        exit_code=code,
        outputs=np.array(rows, dtype=np.int8).reshape(len(rows), classes),
        classes=[found[i] for i in sorted(found)],
        arena_used_bytes=figures.get("arena_used_bytes"),
        stack_used_bytes=figures.get("stack_used_bytes"),
        errors=errors,
        # snapshots 0->1, 2->3, ... enclose the inferences (and the ops); 1->2 ... lie between
        instructions_per_inference=_spans(snapshots["mark"]),
        instructions_per_op=[
            (op_names.get(i, "?"), n) for i, n in enumerate(_spans(snapshots["op"]))
        ],
        instructions_total=total,
        seconds=seconds,
        log=(stdout + stderr)[-4000:],
    )


def _spans(snapshots: list[int]) -> list[int]:
    return [end - start for start, end in zip(snapshots[::2], snapshots[1::2])]
