"""Cold and warm firmware builds: the TFLite Micro objects a model needs compiled into an
empty cache (cold), then the same build again (warm: only the bundle is compiled and
relinked), and one QEMU run, per core and kernel set.

    python bench/bench_firmware_build.py [--model M.tflite] [--runs m7:ref,m7:cmsis_nn]
        [--jobs 2] [--cache-dir DIR]

The default model is the TFLite Micro tree's test CNN (model/model_int8.tflite). Cold runs
use a fresh temporary cache unless --cache-dir is given. Goal: a warm build is at least 10x
faster than a cold one (a model only compiles its array and relinks). Prints one line per
run; skips with the reason when the tree, compiler or QEMU is missing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from advisor.firmware import emulate
from advisor.firmware.toolchain import ToolsMissing, find_toolchain
from advisor.firmware.tree import find_tree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path)
    parser.add_argument("--runs", default="m7:ref,m7:cmsis_nn,m4:ref,m4:cmsis_nn")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path)
    args = parser.parse_args()
    try:
        find_toolchain()
        tree = find_tree()
    except ToolsMissing as missing:
        print(f"skipped: {missing}")
        return
    model = (args.model or tree.root / "model" / "model_int8.tflite").read_bytes()
    with tempfile.TemporaryDirectory(prefix="advisor-bench-cache-") as fresh:
        cache = args.cache_dir or Path(fresh)
        for run in args.runs.split(","):
            core, kernels = run.split(":")
            seconds = []
            for label in ("cold", "warm"):
                started = time.perf_counter()
                report = emulate(model, core=core, kernels=kernels, cache_dir=cache, jobs=args.jobs)
                seconds.append(time.perf_counter() - started)
                build = report.build
                print(
                    f"{core} {kernels} {label}: {seconds[-1]:.1f} s wall, build "
                    f"{build['build_seconds']} s ({build['objects_compiled']} objects compiled, "
                    f"{build['objects_cached']} cached), QEMU {report.qemu_seconds:.2f} s, "
                    f"arena {report.arena_used_bytes} B, "
                    f"{report.instructions_per_inference[0]:,} instructions/inference",
                    flush=True,
                )
            print(f"{core} {kernels}: warm/cold = {seconds[1] / seconds[0]:.3f}")


if __name__ == "__main__":
    main()
