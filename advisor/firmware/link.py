"""Build the firmware image: the generated bundle's ``main.cc`` and ``model_data.cc``, the
QEMU MPS2 port and startup, and the TFLite Micro objects the model needs, linked with newlib
(nano + semihosting) and ``--gc-sections`` into an ELF and a link map."""

from __future__ import annotations

import re
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from advisor.errors import AdvisorError
from advisor.export.tflm import resolver_method
from advisor.firmware.compile import (
    C_FLAGS,
    COMMON_FLAGS,
    RUNTIME_OPT,
    CompileStats,
    compile_group,
    cxx_flags,
    defines,
    groups,
    includes,
)
from advisor.firmware.cores import Core
from advisor.firmware.toolchain import Toolchain
from advisor.firmware.tree import TflmTree

PORT_FILES = ("port_mps2.cc", "startup_mps2.c", "mps2.ld")
ARCHIVES = ("libtflm_runtime.a", "libtflm_kernels.a", "libcmsis_nn.a")
_UNDEFINED = re.compile(r"undefined reference to `([^']+)'")


@dataclass(frozen=True)
class LinkedImage:
    elf: Path
    map_file: Path
    compile: CompileStats
    link_seconds: float
    seconds: float  # everything: compiling what was missing, the application, linking


def _port_dir(work: Path) -> Path:
    """The MPS2 port files, copied out of the package into the work folder."""
    folder = work / "mps2"
    folder.mkdir(parents=True, exist_ok=True)
    for name in PORT_FILES:
        source = resources.files("advisor.firmware") / "mps2" / name
        (folder / name).write_text(source.read_text())
    return folder


def build_image(
    bundle_dir: Path,
    ops: tuple[str, ...],
    *,
    core: Core,
    kernels: str,
    tree: TflmTree,
    toolchain: Toolchain,
    cache_root: Path,
    work: Path,
    jobs: int,
) -> LinkedImage:
    started = time.perf_counter()
    group = groups(core, kernels)
    methods = [resolver_method(op) for op in ops]
    sources = {
        "runtime": list(tree.core_sources()),
        "kernels": list(tree.kernel_sources(kernels, methods)),
        "cmsis_nn": [],
    }
    if kernels == "cmsis_nn":
        sources["cmsis_nn"] = list(
            tree.cmsis_nn_sources([s for s in sources["kernels"] if "/cmsis_nn/" in s])
        )
    stats = CompileStats()
    port = _port_dir(work)
    app = _compile_app(
        bundle_dir,
        port,
        core=core,
        kernels=kernels,
        tree=tree,
        toolchain=toolchain,
        work=work,
        jobs=jobs,
    )
    for _attempt in range(3):
        archives = []
        for name, archive in zip(("runtime", "kernels", "cmsis_nn"), ARCHIVES):
            objects, group_stats = compile_group(
                group[name],
                sources[name],
                core=core,
                kernels=kernels,
                tree=tree,
                toolchain=toolchain,
                cache_root=cache_root,
                jobs=jobs,
            )
            stats.add(group_stats)
            if objects:
                path = work / archive
                path.unlink(missing_ok=True)
                _run([toolchain.ar, "rcs", str(path), *map(str, objects)], "archiving")
                archives.append(path)
        link_started = time.perf_counter()
        elf, map_file = work / "firmware.elf", work / "firmware.map"
        result = subprocess.run(
            [
                toolchain.gxx,
                *core.cpu_flags,
                "-T",
                str(port / "mps2.ld"),
                "-nostartfiles",
                "--specs=nano.specs",
                "--specs=rdimon.specs",
                "-Wl,--gc-sections",
                f"-Wl,-Map={map_file}",
                "-o",
                str(elf),
                *map(str, app),
                "-Wl,--start-group",
                *map(str, archives),
                "-lm",
                "-Wl,--end-group",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        link_seconds = time.perf_counter() - link_started
        if result.returncode == 0:
            return LinkedImage(elf, map_file, stats, link_seconds, time.perf_counter() - started)
        missing = sorted(set(_UNDEFINED.findall(result.stderr)))
        if not missing:
            break
        # The source selection missed something: add the CMSIS-NN files defining the missing
        # arm_* functions and the files named after missing C++ classes, or failing that
        # every runtime and kernel file (the archives and --gc-sections keep the image the
        # same size either way).
        extra_c = tree.cmsis_nn_defining([m for m in missing if m.startswith("arm_")])
        sources["cmsis_nn"] = sorted({*sources["cmsis_nn"], *extra_c})
        cxx_missing = [m for m in missing if not m.startswith("arm_")]
        if cxx_missing:
            extra = tree.defining(cxx_missing, kernels)
            if extra is None:
                sources["runtime"] = list(tree.list("core_srcs"))
                sources["kernels"] = list(tree.all_kernel_sources(kernels))
            else:
                core_list = set(tree.list("core_srcs"))
                for source in extra:
                    key = "runtime" if source in core_list else "kernels"
                    sources[key] = sorted({*sources[key], source})
    raise AdvisorError(
        f"linking the firmware for {core.name} failed:\n{result.stderr.strip()[-3000:]}"
    )


def _compile_app(
    bundle_dir: Path,
    port: Path,
    *,
    core: Core,
    kernels: str,
    tree: TflmTree,
    toolchain: Toolchain,
    work: Path,
    jobs: int,
) -> list[Path]:
    """main.cc, model_data.cc and the port, compiled with the application's flags (the same
    defines as the library: TF_LITE_STATIC_MEMORY changes TfLiteTensor's layout)."""
    cxx = [
        toolchain.gxx,
        *cxx_flags(core, kernels, RUNTIME_OPT),
        *includes(tree, core, kernels),
        f"-I{bundle_dir}",
    ]
    c = [
        toolchain.gcc,
        *core.cpu_flags,
        *COMMON_FLAGS,
        *defines(core, kernels),
        *C_FLAGS,
        RUNTIME_OPT,
    ]
    units = [
        (cxx, bundle_dir / "main.cc"),
        (cxx, bundle_dir / "model_data.cc"),
        (cxx, port / "port_mps2.cc"),
        (c, port / "startup_mps2.c"),
    ]
    (work / "app").mkdir(parents=True, exist_ok=True)
    objects = [work / "app" / (source.stem + ".o") for _, source in units]

    def build(index: int) -> None:
        command, source = units[index]
        _run([*command, "-c", str(source), "-o", str(objects[index])], f"compiling {source.name}")

    with ThreadPoolExecutor(jobs) as pool:
        list(pool.map(build, range(len(units))))
    return objects


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AdvisorError(f"{what} failed:\n{result.stderr.strip()[-2000:]}")
