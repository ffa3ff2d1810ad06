"""The flash budget plans with the runtime measured in a linked firmware image where the
board's core and engine have a measurement (advisor/boards/runtime_flash.json), and with the
profile's assumed reserve, labelled as such, where they have none."""

import json

import pytest

from advisor.boards import load_board
from advisor.boards.runtime_flash import DATA_FILE, ENGINE_KERNELS, measured_runtime

DATA = json.loads(DATA_FILE.read_text())
SHIPPED = {(row["core_family"], row["kernels"]): row for row in DATA["runtime"]}


def test_the_data_file_covers_the_emulated_cores_and_kernel_sets_with_its_tools():
    assert set(SHIPPED) == {
        (core, kernels) for core in ("cortex-m7", "cortex-m4f") for kernels in ("ref", "cmsis_nn")
    }
    tools = DATA["measured_with"]
    assert tools["compiler"].startswith("arm-none-eabi-gcc")
    assert len(tools["tflm_commit"]) == 40 and tools["command"].startswith("python bench/")
    assert {"CONV_2D", "DEPTHWISE_CONV_2D", "HARD_SWISH", "MEAN"} <= set(DATA["ops"])
    for (_, kernels), row in SHIPPED.items():
        parts = row["breakdown"]
        # the map's input sections before string merging: a little more than the image
        assert (
            row["runtime_flash_bytes"] <= sum(parts.values()) <= 1.02 * row["runtime_flash_bytes"]
        )
        assert ("CMSIS-NN" in parts) == (kernels == "cmsis_nn")
    for core in ("cortex-m7", "cortex-m4f"):  # CMSIS-NN adds its kernels on top of TFLM's
        assert (
            SHIPPED[core, "cmsis_nn"]["runtime_flash_bytes"]
            > SHIPPED[core, "ref"]["runtime_flash_bytes"]
        )


def test_an_m7_cmsis_nn_board_plans_with_the_measured_runtime_and_the_hal_reserve():
    board = load_board("stm32f746")
    runtime = SHIPPED["cortex-m7", "cmsis_nn"]["runtime_flash_bytes"]
    reserve = board.flash_reserve()
    assert reserve.measured and reserve.runtime_bytes == runtime
    assert board.flash_budget_bytes == board.flash_bytes - runtime - board.reserved_hal_flash_bytes
    # the measured runtime alone is larger than the 128 KB the profile assumed for everything
    assert runtime > board.reserved_flash_bytes
    assert board.flash_budget_bytes < board.flash_bytes - board.reserved_flash_bytes
    source = board.flash_budget_source
    assert "measured: linked image under QEMU (arm-none-eabi-gcc" in source
    assert DATA["measured_with"]["tflm_commit"][:12] in source
    assert "board profile (assumed)" in source  # the HAL + application reserve is assumed
    data = board.to_dict()
    assert data["flash_reserve"]["measured"] is True
    assert data["flash_budget_source"] == source


def test_the_engine_picks_the_kernel_set_and_the_hal_reserve_is_the_profiles():
    h7 = load_board("stm32h7")
    reference = h7.with_overrides(engine="tflm-reference")
    assert reference.flash_reserve().runtime_kernels == "ref"
    assert (
        reference.flash_reserve().runtime_bytes
        == SHIPPED["cortex-m7", "ref"]["runtime_flash_bytes"]
    )
    assert reference.flash_budget_bytes > h7.flash_budget_bytes
    smaller_hal = h7.with_overrides(reserved_hal_flash_bytes="8KB")
    assert smaller_hal.flash_budget_bytes == h7.flash_budget_bytes + 24 * 1024
    m4 = load_board("stm32l476")
    assert (
        m4.flash_reserve().runtime_bytes == SHIPPED["cortex-m4f", "cmsis_nn"]["runtime_flash_bytes"]
    )


@pytest.mark.parametrize(
    ("board_id", "overrides"),
    [
        ("esp32s3", {}),  # Xtensa: the emulated build has no such core
        ("rp2040", {}),  # Cortex-M0+: not emulated
        ("stm32h7", {"engine": "x-cube-ai"}),  # not TensorFlow Lite Micro
    ],
)
def test_without_a_measurement_the_assumed_reserve_is_used_and_labelled(board_id, overrides):
    board = load_board(board_id).with_overrides(**overrides)
    reserve = board.flash_reserve()
    assert not reserve.measured and reserve.runtime_bytes is None
    assert board.flash_budget_bytes == board.flash_bytes - board.reserved_flash_bytes
    assert reserve.source == "board profile (assumed)"
    assert "board profile (assumed)" in board.flash_budget_source
    assert "measured" not in board.flash_budget_source.replace("no runtime measured", "")
    assert measured_runtime(board.core_family, board.engine) is None


def test_only_tflite_micro_engines_map_to_a_kernel_set():
    assert ENGINE_KERNELS == {"tflm-reference": "ref", "tflm-cmsis-nn": "cmsis_nn"}
