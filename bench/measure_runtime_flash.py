"""Measure the flash of a PhiNet's runtime (everything in the linked firmware image but the
model array) per core and kernel set, and write it where the board budgets read it.

    python bench/measure_runtime_flash.py [--runs m7:ref,m7:cmsis_nn,m4:ref,m4:cmsis_nn]
        [--jobs 2] [--write]

Two random-weight PhiNets of different size (every op a PhiNet has) are converted to int8,
built with TFLite Micro through advisor.firmware for each run's core and kernels, run once
under QEMU, and measured from the ELF and the link map. The runtime of the two must agree
(it does not depend on the weights); the larger of the two is kept. Prints one line per run
and model; --write stores the figures in advisor/boards/runtime_flash.json. Skips with the
reason when the tree, compiler or QEMU is missing. With a warm library cache
(~/.cache/mcu-advisor/tflm) a run takes seconds; cold, minutes per core and kernel set.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from advisor.config import PhiNetConfig
from advisor.firmware.compile import KERNEL_OPT, RUNTIME_OPT
from advisor.firmware.runtime_flash import measure_runtime_flash
from advisor.firmware.toolchain import ToolsMissing, find_toolchain
from advisor.firmware.tree import find_tree

OUT = Path(__file__).resolve().parents[1] / "advisor" / "boards" / "runtime_flash.json"
MODELS = (
    PhiNetConfig(alpha=0.25, beta=1.0, t0=4, num_layers=5, resolution=24),
    PhiNetConfig(alpha=0.5, beta=1.0, t0=6, num_layers=7, resolution=32),
)
INCLUDED = (
    "TFLite Micro: interpreter, allocator, flatbuffer reader and the kernels of the model's ops",
    "CMSIS-NN functions those kernels call (cmsis_nn kernels only)",
    "C and C++ libraries: newlib-nano, libgcc, libstdc++, libm",
    "the generated application and the QEMU MPS2 port: main.cc (op resolver, inference loop), "
    "port_mps2.cc (semihosting I/O), startup_mps2.c (vector table, .data/.bss init)",
)
NOT_INCLUDED = (
    "the model array (the .tflite bytes; the cost model's int8 flash)",
    "the board's HAL, drivers and the rest of the user's application: the board profile's "
    "reserved_hal_flash_bytes (assumed, default 32 KB)",
)


def _phinet_tflite(config: PhiNetConfig) -> bytes:
    from advisor.export.convert import to_tflite
    from advisor.export.cost_calibration import random_phinet

    rng = np.random.default_rng(0)
    shape = (config.in_channels, config.resolution, config.resolution)
    calibration = rng.normal(0, 1, (16, *shape)).astype(np.float32)
    return to_tflite(config, random_phinet(config, 0).state_dict(), calibration)


def _tflm_commit(tree_root: Path) -> str:
    for line in (tree_root / "README.md").read_text().splitlines():
        if line.startswith("| TFLM |"):
            return line.split("`")[1]
    return "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="m7:ref,m7:cmsis_nn,m4:ref,m4:cmsis_nn")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--write", action="store_true", help=f"write {OUT.name}")
    args = parser.parse_args()
    try:
        toolchain = find_toolchain()
        tree = find_tree()
    except ToolsMissing as missing:
        print(f"skipped: {missing}")
        return
    models = [(config, _phinet_tflite(config)) for config in MODELS]
    rows = []
    for run in args.runs.split(","):
        core, kernels = run.split(":")
        measured = []
        for config, model in models:
            figure = measure_runtime_flash(model, core=core, kernels=kernels, jobs=args.jobs)
            measured.append(figure)
            parts = ", ".join(f"{name} {size:,}" for name, size in figure.breakdown.items())
            print(
                f"{core} {kernels} alpha={config.alpha:g} N={config.num_layers} "
                f"{config.resolution}px: image {figure.image_flash_bytes:,} B = model array "
                f"{figure.model_array_bytes:,} + runtime {figure.runtime_flash_bytes:,} B "
                f"({parts})",
                flush=True,
            )
        sizes = [figure.runtime_flash_bytes for figure in measured]
        kept = measured[int(np.argmax(sizes))]
        print(
            f"{core} {kernels}: runtime {max(sizes):,} B, spread between models "
            f"{max(sizes) - min(sizes):,} B"
        )
        rows.append(
            {
                "core_family": kept.core_family,
                "kernels": kept.kernels,
                "runtime_flash_bytes": kept.runtime_flash_bytes,
                "breakdown": kept.breakdown,
                "spread_between_models_bytes": max(sizes) - min(sizes),
            }
        )
    qemu = subprocess.run(
        [toolchain.qemu, "--version"], capture_output=True, text=True, check=True
    ).stdout.splitlines()[0]
    data = {
        "what": "flash of a PhiNet's runtime in the linked firmware image: the image's "
        "flash (text + rodata + .data load image) minus the model array",
        "included": list(INCLUDED),
        "not_included": list(NOT_INCLUDED),
        "ops": sorted(set(kept.ops)),
        "measured_with": {
            "source": "measured: linked image under QEMU",
            "compiler": toolchain.version,
            "qemu": qemu,
            "tflm_commit": _tflm_commit(tree.root),
            "tree_id": kept.tree_id,
            "flags": f"runtime {RUNTIME_OPT}, kernels and CMSIS-NN {KERNEL_OPT}, "
            "-ffunction-sections -fdata-sections, --gc-sections, newlib-nano + rdimon",
            "models": [
                f"random-weight PhiNet alpha={c.alpha:g} beta={c.beta:g} t0={c.t0:g} "
                f"N={c.num_layers} {c.resolution}x{c.resolution}, int8"
                for c in MODELS
            ],
            "command": "python bench/measure_runtime_flash.py " + shlex.join(sys.argv[1:]),
            "date": datetime.date.today().isoformat(),
        },
        "runtime": rows,
    }
    if args.write:
        OUT.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
