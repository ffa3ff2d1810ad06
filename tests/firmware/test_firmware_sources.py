"""The generated op registration compiles against the real TFLite Micro headers, the user's
main.cc + port_generic.cc compile for Cortex-M, and a model's ops select its kernel files."""

from __future__ import annotations

import subprocess

import pytest

from advisor.export.tflite_file import read_tflite
from advisor.export.tflm import resolver_method
from advisor.firmware.compile import cxx_flags, includes
from advisor.firmware.cores import CORES

pytestmark = pytest.mark.slow  # each compiles TFLite Micro's headers (seconds)

RESOLVER_PROBE = """
#include "model_config.h"
#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"
static tflite::MicroMutableOpResolver<kNumOps> resolver;
bool Register() { return RegisterModelOps(resolver); }
"""


def _syntax_check(tools, small_model, tmp_path, source, kernels):
    toolchain, tree = tools
    core = CORES["m7"]
    return subprocess.run(
        [
            toolchain.gxx,
            *cxx_flags(core, kernels, "-Os"),
            *includes(tree, core, kernels),
            f"-I{small_model.bundle}",
            "-fsyntax-only",
            "-Werror",
            str(source),
        ],
        capture_output=True,
        text=True,
        check=False,
    )


def test_op_resolver_compiles_against_micro_mutable_op_resolver(tools, small_model, tmp_path):
    probe = tmp_path / "resolver_probe.cc"
    probe.write_text(RESOLVER_PROBE)
    result = _syntax_check(tools, small_model, tmp_path, probe, "ref")
    assert result.returncode == 0, result.stderr


def test_op_resolver_with_a_misspelt_method_does_not_compile(tools, small_model, tmp_path):
    """The check above can fail: a method the resolver lacks is a compile error."""
    config = (small_model.bundle / "model_config.h").read_text()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "model_config.h").write_text(config.replace("AddConv2D", "AddConv2d"))
    probe = broken / "probe.cc"
    probe.write_text(RESOLVER_PROBE)
    result = _syntax_check(tools, small_model, tmp_path, probe, "ref")
    assert result.returncode != 0 and "AddConv2d" in result.stderr


def test_users_main_and_generic_port_compile_for_cortex_m(tools, small_model, tmp_path):
    for name in ("main.cc", "port_generic.cc"):
        result = _syntax_check(tools, small_model, tmp_path, small_model.bundle / name, "cmsis_nn")
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_kernel_selection_follows_the_ops(tools, small_model):
    _, tree = tools
    methods = [resolver_method(op) for op in read_tflite(small_model.int8).op_types]
    ref = tree.kernel_sources("ref", methods)
    optimized = tree.kernel_sources("cmsis_nn", methods)
    assert "tensorflow/lite/micro/kernels/conv.cc" in ref
    assert "tensorflow/lite/micro/kernels/conv_common.cc" in ref
    assert "tensorflow/lite/micro/kernels/cmsis_nn/conv.cc" in optimized
    assert "tensorflow/lite/micro/kernels/conv.cc" not in optimized
    assert len(ref) < len(tree.all_kernel_sources("ref")) / 3  # only what the model needs
    c_files = tree.cmsis_nn_sources([s for s in optimized if "/cmsis_nn/" in s])
    assert any(s.endswith("/arm_convolve_s8.c") for s in c_files)
    assert any(s.endswith("/arm_depthwise_conv_s8.c") for s in c_files)
    assert not any("Softmax" in s for s in c_files)
