"""Run advisor in a fresh interpreter that refuses, and records, every attempt to import a heavy
package. An attempt is recorded whether or not the package is installed, so these checks fail
for the right reason on a base install too (a `"torch" in sys.modules` check cannot)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HEAVY = ("torch", "tensorflow", "keras", "tflite_micro", "onnx", "onnxruntime", "ray", "matplotlib")

_GUARDED_RUN = """
import importlib, json, sys

heavy, modules, argv, result_path = json.loads(sys.argv[1])
attempted = []


class RefuseHeavy:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in heavy:
            attempted.append(name)
            raise ModuleNotFoundError(f"import of {name} refused by the import guard", name=top)
        return None


sys.meta_path.insert(0, RefuseHeavy())
code = None
try:
    for module in modules:
        importlib.import_module(module)
    if argv:
        from advisor.cli import main

        sys.argv = ["advisor", *argv]
        try:
            main()
        except SystemExit as exit_:
            code = exit_.code
finally:
    with open(result_path, "w") as out:
        json.dump({"code": code, "attempted": sorted(set(attempted))}, out)
"""


def guarded_run(
    tmp_path: Path,
    argv: Sequence[str] = (),
    modules: Sequence[str] = (),
    heavy: Sequence[str] = HEAVY,
) -> tuple[int | None, list[str], subprocess.CompletedProcess]:
    """Import `modules`, then run `advisor *argv`, in a fresh interpreter with the user's board
    folder emptied: (the command's exit code, the heavy imports it attempted, the process)."""
    result_path = tmp_path / "guard-result.json"
    payload = json.dumps([list(heavy), list(modules), list(argv), str(result_path)])
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    process = subprocess.run(
        [sys.executable, "-c", _GUARDED_RUN, payload],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result_path.exists(), process.stderr
    result = json.loads(result_path.read_text())
    return result["code"], result["attempted"], process
