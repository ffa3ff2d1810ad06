"""Which boards map to which emulated core, and the skip path when tools are missing."""

from __future__ import annotations

import pytest

from advisor.boards import list_boards, load_board
from advisor.errors import AdvisorError
from advisor.firmware import core_for_board, kernels_for_board
from advisor.firmware.cores import core_id_for


def test_boards_map_to_their_core_family():
    expected = {
        "stm32h7": "mps2-an500",
        "stm32f746": "mps2-an500",
        "portenta-h7": "mps2-an500",
        "stm32l476": "mps2-an386",
        "nano33ble": "mps2-an386",
        "msp432p401r": "mps2-an386",
        "msp432p4111": "mps2-an386",
    }
    for board_id, machine in expected.items():
        assert core_for_board(load_board(board_id)).qemu_machine == machine, board_id


@pytest.mark.parametrize(
    ("board_id", "why"),
    [("rp2040", "Cortex-M0"), ("esp32s3", "not an Arm Cortex-M"), ("arduino-uno", "not an Arm")],
)
def test_boards_without_an_emulated_core_say_why(board_id, why):
    with pytest.raises(AdvisorError, match=why):
        core_for_board(load_board(board_id))


def test_core_names_parse():
    assert core_id_for("Cortex-M4F") == "m4"
    assert core_id_for("2x Cortex-M0+") == "m0"
    assert core_id_for("Cortex-M33") == "m33"
    assert core_id_for("4x Cortex-A53") is None


def test_kernel_set_follows_the_board_runtime():
    assert kernels_for_board(load_board("stm32h7")) == "cmsis_nn"
    reference = load_board("stm32h7").with_overrides(engine="tflm-reference")
    assert kernels_for_board(reference) == "ref"
    assert all(kernels_for_board(board) in ("ref", "cmsis_nn") for board in list_boards())


def test_missing_tree_is_skipped_with_the_reason_and_how_to_get_one(tmp_path):
    from advisor.firmware.emulate import emulate_bundle

    report = emulate_bundle(tmp_path, core="m7", kernels="ref", tflm_dir=tmp_path / "nowhere")
    assert report.status == "skipped"
    data = report.to_dict()
    assert data["status"] == "skipped" and "arena_used_bytes" not in data
    # either the compiler is missing (install hint) or the tree (how to point at one)
    assert "no TensorFlow Lite Micro tree" in report.reason or "not on PATH" in report.reason
    assert report.install


def test_missing_compiler_is_skipped(monkeypatch, tmp_path):
    from advisor.firmware.emulate import emulate_bundle

    monkeypatch.setenv("PATH", str(tmp_path))
    report = emulate_bundle(tmp_path, core="m4", kernels="cmsis_nn")
    assert report.status == "skipped"
    assert "arm-none-eabi" in report.reason and "apt-get install" in report.install
