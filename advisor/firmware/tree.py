"""A TensorFlow Lite Micro source tree laid out like ``shared/third_party/tflite-micro`` (its
README says how it was made): ``tflm/`` holds the sources, ``lists/`` TFLM's own source lists.

Only what a model needs is compiled: the runtime (``lists/core_srcs.txt`` minus test helpers),
the kernel files that define the registrations of the model's ops (read from
``micro_mutable_op_resolver.h``), the kernel files behind the headers they include, and, for
CMSIS-NN, the C files that define the ``arm_*`` functions they call.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from advisor.firmware.toolchain import ToolsMissing

ENV_VAR = "ADVISOR_TFLM_DIR"
KERNEL_SETS = ("ref", "cmsis_nn")
GET_TREE_HINT = (
    "pass --tflm-dir PATH or set ADVISOR_TFLM_DIR to a TFLite Micro tree with "
    "tflm/, lists/ (see README.md, 'Proof on the target')"
)
# Core sources a firmware never links: test helpers, recording allocators, the mock graph.
UNUSED_CORE = frozenset(
    {
        "tensorflow/lite/micro/test_helpers.cc",
        "tensorflow/lite/micro/test_helper_custom_ops.cc",
        "tensorflow/lite/micro/mock_micro_graph.cc",
        "tensorflow/lite/micro/fake_micro_context.cc",
        "tensorflow/lite/micro/recording_micro_allocator.cc",
        "tensorflow/lite/micro/arena_allocator/recording_single_arena_buffer_allocator.cc",
        "tensorflow/lite/micro/hexdump.cc",
        "tensorflow/lite/micro/micro_profiler.cc",
    }
)

_REGISTRATION_DEF = re.compile(r"TFLMRegistration\s+(Register_\w+)\s*\(\s*\)\s*\{")
_KERNEL_HEADER = re.compile(r'#include\s+"tensorflow/lite/micro/kernels/(\w+)\.h"')
_ARM_CALL = re.compile(r"\b(arm_\w+)\s*\(")
_ARM_DEF = re.compile(r"^[A-Za-z_][\w \t\*]*?\b(arm_\w+)\s*\(", re.MULTILINE)
_UPSTREAM_COMMIT = re.compile(r"tensorflow/tflite-micro\s*\|\s*`([0-9a-f]{40})`")


@dataclass(frozen=True)
class TflmTree:
    root: Path  # the folder holding tflm/ and lists/

    @property
    def sources(self) -> Path:
        return self.root / "tflm"

    def list(self, name: str) -> tuple[str, ...]:
        return _read_list(self.root / "lists" / f"{name}.txt")

    @functools.cached_property
    def tree_id(self) -> str:
        """Upstream commit (from README.md) + a hash of the source lists: part of cache keys."""
        readme = self.root / "README.md"
        match = _UPSTREAM_COMMIT.search(readme.read_text()) if readme.is_file() else None
        lists = hashlib.sha256()
        for path in sorted((self.root / "lists").glob("*.txt")):
            lists.update(path.read_bytes())
        return f"{match.group(1)[:12] if match else 'unknown'}-{lists.hexdigest()[:12]}"

    def core_sources(self) -> tuple[str, ...]:
        return tuple(s for s in self.list("core_srcs") if s not in UNUSED_CORE)

    def kernel_sources(self, kernels: str, ops_methods: list[str]) -> tuple[str, ...]:
        """Kernel .cc files for the resolver methods (e.g. AddConv2D) of a model."""
        registrations = resolver_registrations(self.sources)
        defined = _registration_files(self.sources, self.list(f"kernel_srcs_{kernels}"))
        available = set(self.list(f"kernel_srcs_{kernels}"))
        wanted: list[str] = []
        for method in ops_methods:
            registration = registrations.get(method)
            if registration is None or registration not in defined:
                raise ToolsMissing(
                    f"the TFLite Micro tree has no kernel for {method} ({kernels} kernels)",
                    GET_TREE_HINT,
                )
            wanted.append(defined[registration])
        wanted.append("tensorflow/lite/micro/kernels/kernel_util.cc")
        selected: list[str] = []
        while wanted:
            source = wanted.pop()
            if source in selected or source not in available:
                continue
            selected.append(source)
            text = (self.sources / source).read_text(errors="replace")
            for header in _KERNEL_HEADER.findall(text):
                for stem in (header, f"{header}_common"):
                    wanted.append(f"tensorflow/lite/micro/kernels/{stem}.cc")
        return tuple(sorted(selected))

    def all_kernel_sources(self, kernels: str) -> tuple[str, ...]:
        return tuple(s for s in self.list(f"kernel_srcs_{kernels}") if not s.startswith("signal/"))

    def cmsis_nn_sources(self, callers: list[str]) -> tuple[str, ...]:
        """CMSIS-NN C files defining the ``arm_*`` functions ``callers`` call, transitively."""
        index = cmsis_nn_index(self.sources, self.list("thirdparty_kernel_srcs_cmsis_nn"))
        pending = [*callers]
        selected: set[str] = set()
        seen: set[str] = set()
        while pending:
            text = (self.sources / pending.pop()).read_text(errors="replace")
            for name in set(_ARM_CALL.findall(text)) - seen:
                seen.add(name)
                source = index.get(name)
                if source and source not in selected:
                    selected.add(source)
                    pending.append(source)
        return tuple(sorted(selected))

    def defining(self, symbols: list[str], kernels: str) -> tuple[str, ...] | None:
        """Runtime or kernel files named after the classes or functions in demangled C++
        ``symbols`` (``tflite::LinearMemoryPlanner::...`` -> linear_memory_planner.cc);
        None when a symbol matches no file."""
        by_stem: dict[str, str] = {}
        for source in (*self.list("core_srcs"), *self.all_kernel_sources(kernels)):
            by_stem.setdefault(Path(source).stem, source)
        found = set()
        for symbol in symbols:
            names = re.findall(r"[A-Za-z_]\w*", symbol.split("(")[0])
            stems = [_snake(name) for name in names]
            match = next((by_stem[stem] for stem in stems if stem in by_stem), None)
            if match is None:
                return None
            found.add(match)
        return tuple(sorted(found))

    def cmsis_nn_defining(self, symbols: list[str]) -> tuple[str, ...]:
        index = cmsis_nn_index(self.sources, self.list("thirdparty_kernel_srcs_cmsis_nn"))
        return tuple(sorted({index[s] for s in symbols if s in index}))


@functools.lru_cache(maxsize=4)
def _read_list(path: Path) -> tuple[str, ...]:
    return tuple(line.strip() for line in path.read_text().splitlines() if line.strip())


@functools.lru_cache(maxsize=4)
def resolver_registrations(sources: Path) -> dict[str, str]:
    """MicroMutableOpResolver method -> the Register_* function it uses by default."""
    header = (sources / "tensorflow/lite/micro/micro_mutable_op_resolver.h").read_text()
    methods: dict[str, str] = {}
    for chunk in re.split(r"TfLiteStatus\s+(?=Add\w+\()", header)[1:]:
        name = chunk[: chunk.index("(")]
        body = chunk[: chunk.find("\n  }")]
        match = re.search(r"\b(Register_\w+)\s*\(", body)
        if match:
            methods.setdefault(name, match.group(1))
    return methods


@functools.lru_cache(maxsize=4)
def _registration_files(sources: Path, kernel_list: tuple[str, ...]) -> dict[str, str]:
    defined: dict[str, str] = {}
    for source in kernel_list:
        for name in _REGISTRATION_DEF.findall((sources / source).read_text(errors="replace")):
            defined.setdefault(name, source)
    return defined


@functools.lru_cache(maxsize=4)
def cmsis_nn_index(sources: Path, c_files: tuple[str, ...]) -> dict[str, str]:
    """``arm_*`` function -> the CMSIS-NN C file that defines it."""
    index: dict[str, str] = {}
    for source in c_files:
        text = (sources / source).read_text(errors="replace")
        for name in _ARM_DEF.findall(text):
            index.setdefault(name, source)
    return index


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def default_tree_candidates() -> list[Path]:
    """``shared/third_party/tflite-micro`` beside the checkout or a folder above it."""
    candidates = []
    for folder in [_repo_root(), *_repo_root().parents][:4]:
        candidates.append(folder / "shared" / "third_party" / "tflite-micro")
    return candidates


def find_tree(tflm_dir: str | os.PathLike | None = None) -> TflmTree:
    """The tree at ``tflm_dir``, else ``$ADVISOR_TFLM_DIR``, else the default location;
    ToolsMissing (the emulated run is skipped) when there is none."""
    explicit = tflm_dir if tflm_dir is not None else os.environ.get(ENV_VAR) or None
    candidates = [Path(explicit)] if explicit else default_tree_candidates()
    for path in candidates:
        if (path / "tflm" / "tensorflow" / "lite" / "micro").is_dir() and (
            path / "lists" / "core_srcs.txt"
        ).is_file():
            return TflmTree(path.resolve())
    where = str(candidates[0]) if explicit else ", ".join(str(c) for c in candidates)
    raise ToolsMissing(f"no TensorFlow Lite Micro tree at {where}", GET_TREE_HINT)
