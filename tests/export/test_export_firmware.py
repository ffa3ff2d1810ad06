"""The firmware bundle: the C array holds the .tflite byte for byte, 16-byte aligned; the
files compile with g++ and arm-none-eabi-g++ (Cortex-M4 and M7); the op registration
matches the model's ops."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from advisor.export.firmware import FILES, firmware_arena_size, read_array, write_firmware
from advisor.export.tflite_file import read_tflite

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", 'tru"ck']

# A host program: registers the ops with a stand-in resolver, checks the array's alignment,
# and writes the array to stdout so the test can compare it with the .tflite.
HARNESS = r"""
#include <cstdint>
#include <cstdio>
#include "model_config.h"
#include "model_data.h"
struct CountingResolver {
  int added = 0;
  int Add() { return ++added, 0; }
  %s
};
int main() {
  CountingResolver resolver;
  if (!RegisterModelOps(resolver) || resolver.added != kNumOps) return 2;
  if (reinterpret_cast<std::uintptr_t>(g_model_data) %% 16 != 0) return 3;
  if (kTensorArenaSize %% 16 != 0 || kNumClasses != 10) return 4;
  std::fwrite(g_model_data, 1, g_model_data_len, stdout);
  return 0;
}
"""


@pytest.fixture(scope="module")
def bundle(exported, tmp_path_factory):
    return write_firmware(
        tmp_path_factory.mktemp("firmware"),
        exported.int8,
        exported.arena,
        LABELS,
        preprocessing="x / 255",
    )


def test_bundle_files_and_array_bytes(bundle, exported):
    assert sorted(p.name for p in bundle.files) == sorted(FILES)
    assert read_array(bundle.directory / "model_data.cc") == exported.int8
    config = (bundle.directory / "model_config.h").read_text()
    assert f"constexpr int kTensorArenaSize = {bundle.arena_size};" in config
    assert bundle.arena_size == firmware_arena_size(exported.arena.arena_bytes)
    assert bundle.arena_size >= exported.arena.arena_bytes + 1024
    for op in read_tflite(exported.int8).op_types:
        assert f"// {op}" in config
    assert r'"tru\"ck",' in config
    assert "alignas(16)" in (bundle.directory / "model_data.cc").read_text()


def test_wrong_label_count_is_refused(exported, tmp_path):
    from advisor.errors import AdvisorError

    with pytest.raises(AdvisorError, match="3 class labels"):
        write_firmware(tmp_path, exported.int8, exported.arena, ["a", "b", "c"])


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (Debian: apt-get install "
            f"{'g++' if name == 'g++' else 'gcc-arm-none-eabi'})"
        )
    return path


def test_host_build_registers_ops_and_reproduces_the_tflite(bundle, exported, tmp_path):
    compiler = _compiler("g++")
    methods = " ".join(
        f"int {line.split('resolver.')[1].split('()')[0]}() {{ return Add(); }}"
        for line in (bundle.directory / "model_config.h").read_text().splitlines()
        if "resolver.Add" in line
    )
    source = tmp_path / "harness.cc"
    source.write_text(HARNESS % methods)
    binary = tmp_path / "harness"
    subprocess.run(
        [
            compiler,
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-I",
            str(bundle.directory),
            str(source),
            str(bundle.directory / "model_data.cc"),
            "-o",
            str(binary),
        ],
        check=True,
    )
    run = subprocess.run([str(binary)], capture_output=True, check=False)
    assert run.returncode == 0
    assert run.stdout == exported.int8


@pytest.mark.parametrize("cpu", ["cortex-m4", "cortex-m7"])
def test_arm_build_puts_the_model_in_flash(bundle, exported, tmp_path, cpu):
    compiler = _compiler("arm-none-eabi-g++")
    size_tool = _compiler("arm-none-eabi-size")
    obj = tmp_path / f"model_data_{cpu}.o"
    subprocess.run(
        [
            compiler,
            "-std=c++11",
            f"-mcpu={cpu}",
            "-mthumb",
            "-Os",
            "-Wall",
            "-Werror",
            "-c",
            str(bundle.directory / "model_data.cc"),
            "-o",
            str(obj),
        ],
        check=True,
    )
    header, values = subprocess.run(
        [size_tool, str(obj)], capture_output=True, text=True, check=True
    ).stdout.splitlines()[:2]
    sizes = dict(zip(header.split(), values.split()))
    # const data goes to flash (text), nothing to RAM (data, bss)
    assert int(sizes["text"]) >= len(exported.int8)
    assert int(sizes["text"]) <= len(exported.int8) + 64
    assert int(sizes["data"]) == 0 and int(sizes["bss"]) == 0


def test_firmware_arena_adds_a_margin_capped_at_the_budget():
    assert firmware_arena_size(10_000) == 11_024  # + 1 KiB, 16-byte units
    assert firmware_arena_size(100_000) == 105_008  # + 5 %
    assert firmware_arena_size(100_000, limit=102_007) == 102_000
    assert firmware_arena_size(100_000, limit=90_000) == 105_008  # does not fit: no cap
