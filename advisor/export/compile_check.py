"""Compile the generated firmware files with every C++ compiler on PATH (host g++ and the
Arm cross compiler), so that a bundle that does not compile is never reported as done.

The check is syntax-only: model_data.cc, and a translation unit that includes model_config.h
and model_data.h and instantiates ``RegisterModelOps`` with a stand-in resolver that has
exactly the methods the header calls. main.cc needs TensorFlow Lite Micro's headers and is
not compiled here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from advisor.errors import CheckFailed

# compiler -> the flags it checks with (the Arm one for a Cortex-M4, as the boards use)
COMPILERS: dict[str, tuple[str, ...]] = {
    "g++": (),
    "arm-none-eabi-g++": ("-mcpu=cortex-m4", "-mthumb"),
}
FLAGS = ("-std=c++11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror")
TIMEOUT_SECONDS = 300

HARNESS = """// compile check of the generated headers (written by mcu-advisor)
#include "model_config.h"
#include "model_data.h"
struct StandInResolver {
%s
};
bool RegisterAll() {
  StandInResolver resolver;
  return RegisterModelOps(resolver) && kNumClasses > 0 && kClassLabels[0] != nullptr &&
         g_model_data_len > 0 && kTensorArenaSize > 0;
}
"""


@dataclass(frozen=True)
class CompileCheck:
    compiler: str  # the name looked up on PATH
    path: str  # where it was found

    def to_dict(self) -> dict[str, str]:
        return {"compiler": self.compiler, "path": self.path}


def available_compilers() -> dict[str, str]:
    """Compilers of COMPILERS found on PATH: name -> path."""
    found = {name: shutil.which(name) for name in COMPILERS}
    return {name: path for name, path in found.items() if path}


def check_compiles(directory: str | Path, resolver_methods: Sequence[str]) -> list[CompileCheck]:
    """Compile model_data.cc and model_config.h in ``directory`` with each compiler on PATH.

    Returns the checks that ran (empty when no compiler is installed); raises CheckFailed with
    the compiler's messages when one rejects the files."""
    directory = Path(directory)
    checks = []
    methods = "\n".join(f"  int {method}() {{ return 0; }}" for method in resolver_methods)
    with tempfile.TemporaryDirectory(prefix="advisor-compile-check-") as scratch:
        harness = Path(scratch) / "check_model_config.cc"
        harness.write_text(HARNESS % methods, encoding="ascii")
        for name, path in available_compilers().items():
            command = [
                path,
                *FLAGS,
                *COMPILERS[name],
                "-I",
                str(directory),
                str(harness),
                str(directory / "model_data.cc"),
            ]
            try:
                done = subprocess.run(
                    command,
                    capture_output=True,
                    text=True,
                    errors="replace",
                    timeout=TIMEOUT_SECONDS,
                )
            except (OSError, subprocess.TimeoutExpired) as err:
                raise CheckFailed(
                    f"{name} could not compile the firmware in {directory} ({err})"
                ) from None
            if done.returncode != 0:
                messages = "\n".join((done.stderr or done.stdout).strip().splitlines()[:20])
                raise CheckFailed(
                    f"the generated firmware in {directory} does not compile with {name} "
                    f"({path}):\n{messages}\nThis is a bug in mcu-advisor's firmware "
                    "templates; please report it with the class names of the data set"
                )
            checks.append(CompileCheck(name, path))
    return checks
