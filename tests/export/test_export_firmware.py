"""The firmware bundle: the C array holds the .tflite byte for byte, 16-byte aligned; the
files compile with g++ and arm-none-eabi-g++ (Cortex-M4 and M7); the op registration
matches the model's ops and calls methods TensorFlow Lite Micro's MicroMutableOpResolver
really has (its header is read from the TFLM source tree beside the checkout)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from advisor.export.firmware import FILES, firmware_arena_size, read_array, write_firmware
from advisor.export.tflite_file import read_tflite
from advisor.export.tflm import resolver_method

RESOLVER_HEADER = "tflm/tensorflow/lite/micro/micro_mutable_op_resolver.h"

LABELS = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", 'tru"ck']

# A host program: registers the ops with a stand-in resolver that has exactly the methods of
# TFLM's MicroMutableOpResolver (so a wrong name does not compile), checks the array's
# alignment, and writes the array to stdout so the test can compare it with the .tflite.
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


def tflm_resolver_header() -> Path:
    """TFLM's micro_mutable_op_resolver.h, from the source tree in `shared/third_party/
    tflite-micro` beside the checkout (or beside a folder above it); skips when there is none."""
    for folder in Path(__file__).resolve().parents[2].parents:
        header = folder / "shared" / "third_party" / "tflite-micro" / RESOLVER_HEADER
        if header.is_file():
            return header
    pytest.skip(
        "no TensorFlow Lite Micro source tree at shared/third_party/tflite-micro beside the "
        "checkout: the op-resolver names cannot be checked against TFLM's own header"
    )


@pytest.fixture(scope="module")
def resolver_methods() -> dict[str, str | None]:
    """Every registration method of tflite::MicroMutableOpResolver -> the builtin op it
    registers (None for custom ops), parsed from the real header."""
    text = tflm_resolver_header().read_text()
    parts = re.split(r"TfLiteStatus (Add\w*)\(", text)
    methods = {}
    for name, body in zip(parts[1::2], parts[2::2]):
        builtin = re.search(r"BuiltinOperator_(\w+)", body)
        methods[name] = builtin.group(1) if builtin else None
    assert len(methods) > 100 and methods["AddConv2D"] == "CONV_2D"  # the parse found them
    return methods


def generated_calls(bundle) -> list[str]:
    config = (bundle.directory / "model_config.h").read_text()
    return re.findall(r"resolver\.(\w+)\(\)", config)


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


def test_generated_registration_calls_are_tflite_micro_methods(bundle, exported, resolver_methods):
    calls = generated_calls(bundle)
    ops = sorted(set(read_tflite(exported.int8).op_types))
    assert len(calls) == len(ops)
    assert [resolver_methods.get(call) for call in calls] == ops


def test_every_builtin_maps_to_the_method_tflite_micro_names(resolver_methods):
    """resolver_method() for every builtin op TFLM registers, not only the model's few."""
    builtins = {
        op: method
        for method, op in resolver_methods.items()
        if op is not None and op != "CUSTOM"  # AddCustom / AddBuiltin take the op as argument
    }
    wrong = {
        op: resolver_method(op) for op, method in builtins.items() if resolver_method(op) != method
    }
    assert wrong == {}, "expected " + str({op: builtins[op] for op in wrong})


def _compiler(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(
            f"{name} is not installed (Debian: apt-get install "
            f"{'g++' if name == 'g++' else 'gcc-arm-none-eabi'})"
        )
    return path


def test_host_build_registers_ops_and_reproduces_the_tflite(
    bundle, exported, tmp_path, resolver_methods
):
    compiler = _compiler("g++")
    methods = " ".join(f"int {name}() {{ return Add(); }}" for name in sorted(resolver_methods))
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


# Class folder names a user's data set may have: every one broke model_config.h, or the write
ADVERSARIAL_LABELS = [
    'say "hi"',
    "back\\slash\\",
    "carriage\rreturn\nnewline",
    "tab\there\x07\x1b",
    "ends a comment */ // /*",
    "trigraphs ??= ??/ ??' ???",
    "unicode: caf\u00e9 \u732b \U0001f600",
    "invalid utf-8 \udcff\udcfe",  # how Python names an undecodable file name's bytes
    "octal \001" + "7 then a digit",
    "\\",
]

LABEL_PRINTER = r"""
#include <cstdio>
#include "model_config.h"
int main() {
  for (int i = 0; i < kNumClasses; ++i) std::printf("%s%c", kClassLabels[i], 0);
  return 0;
}
"""


@pytest.fixture(scope="module")
def adversarial_bundle(exported, tmp_path_factory):
    return write_firmware(
        tmp_path_factory.mktemp("adversarial") / "firmware",
        exported.int8,
        exported.arena,
        ADVERSARIAL_LABELS,
        model_name="we?ird */ name\\",
        preprocessing="ends with a backslash \\\nand ??/",
    )


def test_adversarial_labels_are_printable_ascii_without_trigraphs(adversarial_bundle):
    for path in adversarial_bundle.files:
        text = path.read_bytes().decode("ascii")  # raises on any byte that is not ASCII
        assert "??" not in text, path.name
        assert all(c == "\n" or " " <= c <= "~" for c in text), path.name
        for line in text.splitlines():
            assert not line.rstrip().endswith("\\"), f"{path.name}: {line!r}"


def test_adversarial_labels_compile_and_keep_their_bytes_with_g_plus_plus(
    adversarial_bundle, tmp_path
):
    compiler = _compiler("g++")
    source = tmp_path / "labels.cc"
    source.write_text(LABEL_PRINTER)
    binary = tmp_path / "labels"
    # -trigraphs: a ??= left in a string literal would be turned into # and change the label
    flags = ["-std=c++11", "-trigraphs", "-Wall", "-Wextra", "-Werror"]
    include = ["-I", str(adversarial_bundle.directory)]
    subprocess.run([compiler, *flags, *include, str(source), "-o", str(binary)], check=True)
    printed = subprocess.run([str(binary)], capture_output=True, check=True).stdout
    expected = b"".join(
        label.encode("utf-8", "surrogateescape") + b"\0" for label in ADVERSARIAL_LABELS
    )
    assert printed == expected


@pytest.mark.parametrize("name", ["g++", "arm-none-eabi-g++"])
def test_adversarial_labels_pass_the_export_compile_check(adversarial_bundle, name, monkeypatch):
    from advisor.export import compile_check

    _compiler(name)
    monkeypatch.setattr(compile_check, "COMPILERS", {name: compile_check.COMPILERS[name]})
    checks = compile_check.check_compiles(
        adversarial_bundle.directory, adversarial_bundle.resolver_methods
    )
    assert [check.compiler for check in checks] == [name]


def test_the_compile_check_fails_on_a_header_that_does_not_compile(bundle, tmp_path):
    from advisor.errors import CheckFailed
    from advisor.export.compile_check import available_compilers, check_compiles

    if not available_compilers():
        pytest.skip("no C++ compiler on PATH (apt-get install g++ gcc-arm-none-eabi)")
    broken = tmp_path / "firmware"
    shutil.copytree(bundle.directory, broken)
    config = broken / "model_config.h"
    config.write_text(config.read_text().replace('"bird",', '"bi\rrd",'))
    with pytest.raises(CheckFailed, match="does not compile"):
        check_compiles(broken, bundle.resolver_methods)


def test_a_bundle_is_written_whole_or_not_at_all(tmp_path):
    from advisor.export.firmware import write_bundle_atomic

    directory = tmp_path / "firmware"
    write_bundle_atomic(directory, {"a.h": "old a\n", "b.h": "old b\n"})
    with pytest.raises(UnicodeEncodeError):
        write_bundle_atomic(directory, {"a.h": "new a\n", "b.h": "not ascii \u00e9\n"})
    assert {p.name: p.read_text() for p in directory.iterdir()} == {
        "a.h": "old a\n",
        "b.h": "old b\n",
    }
    assert [p.name for p in tmp_path.iterdir()] == ["firmware"]  # no staging folder left
    write_bundle_atomic(directory, {"a.h": "new a\n"})
    assert [p.name for p in directory.iterdir()] == ["a.h"]
    assert [p.name for p in tmp_path.iterdir()] == ["firmware"]
