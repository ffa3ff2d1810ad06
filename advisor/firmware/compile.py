"""Compile TFLite Micro sources for a core, caching each object file.

Objects live under the user cache folder (``~/.cache/mcu-advisor/tflm/``,
``$XDG_CACHE_HOME/mcu-advisor/tflm/`` or ``$MCU_ADVISOR_CACHE/tflm/``; ``cache_dir`` overrides
it), in one folder per group of identical compile commands, named by a hash of the core, the
flags, the compiler version and the tree. A model then compiles only the files no earlier model
needed, and every build links against the same objects. Flags follow TFLM's ``cortex_m_generic``
target: the runtime at ``-Os``, kernels and CMSIS-NN at ``-O2``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from advisor.cache import user_cache_dir
from advisor.errors import AdvisorError
from advisor.firmware.cores import Core
from advisor.firmware.toolchain import Toolchain
from advisor.firmware.tree import TflmTree

COMMON_FLAGS = (
    "-mlittle-endian",
    "-funsigned-char",
    "-fomit-frame-pointer",
    "-ffunction-sections",
    "-fdata-sections",
    "-fno-unwind-tables",
    "-fno-asynchronous-unwind-tables",
    "-fmessage-length=0",
)
CXX_FLAGS = ("-std=c++17", "-fno-rtti", "-fno-exceptions", "-fno-threadsafe-statics")
C_FLAGS = ("-std=c17",)
RUNTIME_OPT, KERNEL_OPT = "-Os", "-O2"
CMSIS_NN_DEFINES = ("-DCMSIS_NN", "-DARM_NN_ENABLE_F16=0", "-DARM_NN_ENABLE_F32=0")


def default_cache_dir() -> Path:
    """Where compiled TensorFlow Lite Micro objects are kept: under the user cache folder."""
    return user_cache_dir() / "tflm"


def defines(core: Core, kernels: str) -> list[str]:
    out = [
        "-DTF_LITE_STATIC_MEMORY",
        "-DTF_LITE_DISABLE_X86_NEON",
        "-DTF_LITE_MCU_DEBUG_LOG",
        "-DKERNELS_OPTIMIZED_FOR_SPEED",
        f"-DCPU_{core.id.upper()}=1",
        f"-D{core.cmsis_device}",
        f'-DCMSIS_DEVICE_ARM_CORTEX_M_XX_HEADER_FILE="{core.cmsis_device}.h"',
    ]
    if kernels == "cmsis_nn":
        out += CMSIS_NN_DEFINES
    return out


def includes(tree: TflmTree, core: Core, kernels: str) -> list[str]:
    t = tree.sources
    dirs = [
        t,
        t / "third_party",
        t / "third_party/gemmlowp",
        t / "third_party/flatbuffers/include",
        t / "third_party/kissfft",
        t / "third_party/ruy",
        t / f"third_party/cmsis/Cortex_DFP/Device/{core.cmsis_device}/Include",
        t / "third_party/cmsis/CMSIS/Core/Include",
    ]
    if kernels == "cmsis_nn":
        dirs += [
            t / "third_party/cmsis",
            t / "third_party/cmsis_nn",
            t / "third_party/cmsis_nn/Include",
        ]
    return [f"-I{d}" for d in dirs]


def cxx_flags(core: Core, kernels: str, opt: str) -> list[str]:
    return [*core.cpu_flags, *COMMON_FLAGS, *defines(core, kernels), *CXX_FLAGS, opt]


@dataclass
class CompileStats:
    compiled: int = 0
    cached: int = 0
    seconds: float = 0.0
    folders: list[str] = field(default_factory=list)

    def add(self, other: CompileStats) -> None:
        self.compiled += other.compiled
        self.cached += other.cached
        self.seconds += other.seconds
        self.folders += [f for f in other.folders if f not in self.folders]


@dataclass(frozen=True)
class ObjectGroup:
    """Sources compiled with one command line into one cache folder."""

    name: str  # "runtime", "kernels-ref", "kernels-cmsis_nn", "cmsis_nn"
    language: str  # "c++" or "c"
    flags: tuple[str, ...]

    def folder(self, root: Path, core: Core, toolchain: Toolchain, tree: TflmTree) -> Path:
        key = json.dumps(
            [core.id, self.name, self.language, self.flags, toolchain.version, tree.tree_id]
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return root / f"{core.id}-{self.name}-{digest}"


def groups(core: Core, kernels: str) -> dict[str, ObjectGroup]:
    """The runtime is shared by both kernel sets (its files do not read CMSIS_NN)."""
    c_flags = (*core.cpu_flags, *COMMON_FLAGS, *defines(core, kernels), *C_FLAGS, KERNEL_OPT)
    return {
        "runtime": ObjectGroup("runtime", "c++", tuple(cxx_flags(core, "ref", RUNTIME_OPT))),
        "kernels": ObjectGroup(
            f"kernels-{kernels}", "c++", tuple(cxx_flags(core, kernels, KERNEL_OPT))
        ),
        "cmsis_nn": ObjectGroup("cmsis_nn", "c", c_flags),
    }


def compile_group(
    group: ObjectGroup,
    sources: list[str] | tuple[str, ...],
    *,
    core: Core,
    kernels: str,
    tree: TflmTree,
    toolchain: Toolchain,
    cache_root: Path,
    jobs: int,
) -> tuple[list[Path], CompileStats]:
    """Object files for ``sources`` (paths inside ``tree.sources``), compiling the missing
    ones ``jobs`` at a time. Each object is written under a temporary name and renamed, so
    concurrent builds sharing the cache never see half-written files."""
    folder = group.folder(cache_root, core, toolchain, tree)
    compiler = toolchain.gxx if group.language == "c++" else toolchain.gcc
    include_kernels = "ref" if group.name == "runtime" else kernels
    base = [compiler, *group.flags, *includes(tree, core, include_kernels)]
    objects = [folder / (source.rsplit(".", 1)[0] + ".o") for source in sources]
    missing = [(s, o) for s, o in zip(sources, objects) if not o.is_file()]
    started = time.perf_counter()

    def build(item: tuple[str, Path]) -> None:
        source, obj = item
        obj.parent.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(suffix=".o", dir=obj.parent)
        os.close(handle)
        result = subprocess.run(
            [*base, "-c", str(tree.sources / source), "-o", partial],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            os.unlink(partial)
            raise AdvisorError(
                f"compiling {source} for {core.name} failed:\n{result.stderr.strip()[-2000:]}"
            )
        os.replace(partial, obj)

    if missing:
        with ThreadPoolExecutor(max(1, jobs)) as pool:
            list(pool.map(build, missing))
    stats = CompileStats(
        compiled=len(missing),
        cached=len(objects) - len(missing),
        seconds=time.perf_counter() - started,
        folders=[str(folder)] if objects else [],
    )
    return objects, stats
