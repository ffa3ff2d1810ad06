"""The small PhiNet's firmware built with TFLite Micro for Cortex-M4 and M7, reference and
CMSIS-NN kernels, run under QEMU: outputs against the host interpreter, the 32-bit arena,
the linked image's sizes and the instruction counts.

The first run on a machine compiles the TFLite Micro sources the model needs into the user
cache (minutes); later runs only compile the bundle and relink."""

from __future__ import annotations

import pytest

from advisor.boards import load_board
from advisor.export.tflite_file import read_tflite
from advisor.firmware import emulate_bundle

pytestmark = pytest.mark.slow

RUNS = [("m4", "ref"), ("m4", "cmsis_nn"), ("m7", "ref"), ("m7", "cmsis_nn")]


@pytest.fixture(scope="module")
def reports(tools, small_model):
    tree = tools[1]
    return {
        (core, kernels): emulate_bundle(
            small_model.bundle,
            core=core,
            kernels=kernels,
            inputs=small_model.inputs,
            board=load_board("stm32f746" if core == "m7" else "stm32l476"),
            host_arena_bytes=small_model.host_arena_bytes,
            tflm_dir=tree.root,
        )
        for core, kernels in RUNS
    }


@pytest.mark.parametrize(("core", "kernels"), RUNS)
def test_runs_on_the_emulated_core_like_the_host(reports, small_model, core, kernels):
    report = reports[core, kernels]
    assert report.status == "ran", report.reason
    assert report.errors == []
    assert report.images == len(small_model.inputs)
    assert report.outputs_compared == len(small_model.inputs)
    if kernels == "ref":  # same reference kernels: byte-for-byte equal to the host
        assert report.outputs_equal_rate == 1.0
    else:  # CMSIS-NN rounds differently: within one int8 step
        assert report.outputs_within_one_rate == 1.0
        assert report.outputs_max_abs_diff <= 1


@pytest.mark.parametrize(("core", "kernels"), RUNS)
def test_arena_sizes_and_instructions(reports, small_model, core, kernels):
    report = reports[core, kernels]
    # 32-bit pointers: the target needs less arena than the 64-bit host, never more
    assert 0.5 * small_model.host_arena_bytes < report.arena_used_bytes
    assert report.arena_used_bytes <= small_model.host_arena_bytes
    sizes = report.sizes
    assert sizes.arena_bytes == report.arena_declared_bytes >= report.arena_used_bytes
    assert sizes.static_ram_bytes >= sizes.arena_bytes
    # the model array is in flash, byte for byte (plus alignment padding)
    model = sizes.flash_breakdown["model array"]
    assert len(small_model.int8) <= model <= len(small_model.int8) + 16
    assert sizes.flash_bytes > len(small_model.int8) + 40_000  # the runtime is in the image
    assert sizes.flash_breakdown["TFLite Micro"] > 30_000
    assert ("CMSIS-NN" in sizes.flash_breakdown) == (kernels == "cmsis_nn")
    assert 0 < report.stack_used_bytes < 64 * 1024
    assert len(report.instructions_per_inference) == len(small_model.inputs)
    assert min(report.instructions_per_inference) > 100_000
    # per op (TFLM's profiler hooks, first inference): every op, in the model's order, and
    # together nearly all of the inference (the rest is the interpreter between ops)
    operators = read_tflite(small_model.int8).operators
    assert [op for op, _ in report.instructions_per_op] == [op.op for op in operators]
    per_op = sum(n for _, n in report.instructions_per_op)
    assert 0.95 * report.instructions_per_inference[0] < per_op
    assert per_op < report.instructions_per_inference[0]
    assert report.board.flash_margin_bytes == (
        report.board.flash_bytes - report.board.hal_flash_reserve_bytes - sizes.flash_bytes
    )
    assert report.board.fits


@pytest.mark.parametrize("core", ["m4", "m7"])
def test_cmsis_nn_runs_fewer_instructions_and_links_more_code(reports, core):
    ref, optimized = reports[core, "ref"], reports[core, "cmsis_nn"]
    assert max(optimized.instructions_per_inference) < min(ref.instructions_per_inference)
    assert optimized.sizes.flash_bytes > ref.sizes.flash_bytes
