"""The light path stays light: the pure core and the commands `advisor boards`, `advisor cost`
and `advisor recommend` never try to import torch, TensorFlow, TFLite Micro, ONNX, Ray or
matplotlib. The static half of this contract (every import statement, lazy ones included) is
import-linter's, in pyproject.toml; this is the dynamic half (what really runs, importlib
included), with each heavy import refused and recorded, so it fails even where none of them
is installed."""

import pkgutil
from pathlib import Path

import pytest
from import_guard import guarded_run

import advisor

CORE_PACKAGES = ("boards", "cost", "solver", "scaling")
CORE_MODULES = ("advisor.config", "advisor.errors", "advisor.provenance")


def core_modules() -> list[str]:
    """Every module of the core, found on disk (this process imports none of them)."""
    names = list(CORE_MODULES)
    for package in CORE_PACKAGES:
        folder = Path(advisor.__file__).parent / package
        names.append(f"advisor.{package}")
        found = pkgutil.iter_modules([str(folder)], f"advisor.{package}.")
        names += sorted(module.name for module in found)
    return names


def test_every_core_module_imports_without_a_heavy_package(tmp_path):
    modules = core_modules()
    assert "advisor.solver.search" in modules and "advisor.scaling.plots" in modules
    _, attempted, process = guarded_run(tmp_path, modules=modules)
    assert process.returncode == 0, process.stderr
    assert attempted == []


COST = [
    "cost",
    "--alpha",
    "0.5",
    "--beta",
    "1",
    "--t0",
    "6",
    "--layers",
    "7",
    "--resolution",
    "160",
]


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["boards"],
        ["boards", "--json"],
        ["boards", "show", "stm32h7"],
        COST,
        [*COST, "--json"],
        ["recommend", "--board", "stm32h7"],
        ["recommend", "--board", "stm32h7", "--json"],
    ],
    ids=" ".join,
)
def test_a_light_command_succeeds_without_a_heavy_package(tmp_path, argv):
    code, attempted, process = guarded_run(tmp_path, argv=argv)
    assert code == 0, process.stderr
    assert attempted == []


def test_the_guard_sees_a_heavy_import(tmp_path):
    """The check itself can fail: a module that imports a heavy package is caught whether or
    not that package is installed here."""
    _, attempted, process = guarded_run(tmp_path, modules=["advisor.training.phinet"])
    assert process.returncode != 0  # the refused import propagates
    assert attempted == ["torch"]
