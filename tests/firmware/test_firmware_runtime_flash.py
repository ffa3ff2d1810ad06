"""The runtime flash shipped in advisor/boards/runtime_flash.json (which the board budgets plan
with) is what the firmware build measures today: the small PhiNet rebuilt for Cortex-M7 with
CMSIS-NN kernels, its image minus its model array."""

from __future__ import annotations

import json

import pytest

from advisor.boards.runtime_flash import DATA_FILE
from advisor.firmware.runtime_flash import measure_runtime_flash

pytestmark = pytest.mark.slow


def test_the_shipped_runtime_flash_matches_a_fresh_measurement(tools, small_model):
    shipped = json.loads(DATA_FILE.read_text())
    row = next(
        r
        for r in shipped["runtime"]
        if (r["core_family"], r["kernels"]) == ("cortex-m7", "cmsis_nn")
    )
    measured = measure_runtime_flash(
        small_model.int8, core="m7", kernels="cmsis_nn", tflm_dir=tools[1].root
    )
    assert measured.core_family == "cortex-m7"
    assert measured.model_array_bytes >= len(small_model.int8)
    assert measured.image_flash_bytes == measured.model_array_bytes + measured.runtime_flash_bytes
    assert {"TFLite Micro", "CMSIS-NN"} <= set(measured.breakdown)
    assert "model array" not in measured.breakdown
    assert measured.runtime_flash_bytes == pytest.approx(row["runtime_flash_bytes"], rel=0.03)
