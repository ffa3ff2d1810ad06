"""Run a firmware ELF under ``qemu-system-arm`` with semihosting, and count the guest
instructions executed in each inference with the TCG plugin from the TFLite Micro tree
(``tools/qemu_icount_plugin.c``, compiled with the host C compiler into the cache).

QEMU does not model timing: the counts are instructions executed, not cycles or time."""

from __future__ import annotations

import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from advisor.errors import AdvisorError
from advisor.firmware.toolchain import Toolchain
from advisor.firmware.tree import TflmTree

PLUGIN_SOURCE = "tools/qemu_icount_plugin.c"
PLUGIN_SNAPSHOTS = 64  # the plugin keeps this many marks: 32 inferences
MARK_SYMBOL = "advisor_icount_mark"
_LINE = re.compile(r"^advisor: (\w+) (.*)$")
_SPAN = re.compile(r"^icount: mark(\d+)->mark\d+ insns=(\d+)$")
_TOTAL = re.compile(r"^icount: total_insns=(\d+)$")


@dataclass
class QemuRun:
    exit_code: int
    outputs: np.ndarray  # (images, classes) int8
    classes: list[int]
    arena_used_bytes: int | None
    stack_used_bytes: int | None
    errors: list[str]
    instructions_per_inference: list[int] = field(default_factory=list)
    instructions_total: int | None = None
    seconds: float = 0.0
    log: str = ""


def plugin_library(tree: TflmTree, toolchain: Toolchain, cache_root: Path) -> Path | None:
    """The compiled plugin, or None when there is no host compiler or no plugin source."""
    source = tree.root / PLUGIN_SOURCE
    if toolchain.host_cc is None or not source.is_file():
        return None
    library = cache_root / f"qemu-icount-{tree.tree_id}.so"
    if not library.is_file():
        library.parent.mkdir(parents=True, exist_ok=True)
        partial = library.with_suffix(f".{time.time_ns()}.tmp")
        subprocess.run(
            [toolchain.host_cc, "-shared", "-fPIC", "-O2", "-o", str(partial), str(source)],
            check=True,
            capture_output=True,
        )
        partial.replace(library)
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
        command[1:1] = ["-plugin", f"{plugin},mark={mark_address:#x}"]
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
    spans = []
    for raw in stderr.splitlines():
        span = _SPAN.match(raw.strip())
        if span:
            spans.append((int(span.group(1)), int(span.group(2))))
    total = next((int(m.group(1)) for m in map(_TOTAL.match, stderr.splitlines()) if m), None)
    return QemuRun(
        exit_code=code,
        outputs=np.array(rows, dtype=np.int8).reshape(len(rows), classes),
        classes=[found[i] for i in sorted(found)],
        arena_used_bytes=figures.get("arena_used_bytes"),
        stack_used_bytes=figures.get("stack_used_bytes"),
        errors=errors,
        # marks 1->2, 3->4, ... enclose the inferences; 2->3 ... are the code between them
        instructions_per_inference=[n for i, n in spans if i % 2 == 1],
        instructions_total=total,
        seconds=seconds,
        log=(stdout + stderr)[-4000:],
    )
