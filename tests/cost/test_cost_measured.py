"""The cost model against measurements of real converted models (tflite_measurements.json:
16 PhiNets converted by advisor.export with TF 2.21.0 and run in TFLite Micro; see the
file for how). Re-measure with the export tools when the converter or export graph changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.config import PhiNetConfig
from advisor.cost import estimate

MEASUREMENTS = json.loads((Path(__file__).parent / "tflite_measurements.json").read_text())
MODELS = MEASUREMENTS["models"]


def _id(model: dict) -> str:
    c = model["config"]
    return f"a{c['alpha']}-b{c['beta']}-t{c['t0']}-N{c['num_layers']}-R{c['resolution']}"


@pytest.mark.parametrize("model", MODELS, ids=_id)
def test_graph_and_activation_plan_match_tflite_micro(model):
    """Same op count as the converter writes, and TFLM's activation plan (the arena head)
    is the peak live set rounded up to TFLM's 16-byte alignment."""
    report = estimate(PhiNetConfig.from_dict(model["config"]))
    assert len(report.layers) == model["ops"]
    assert -(-report.peak_ram_bytes // 16) * 16 == model["tflm_head_bytes"]


@pytest.mark.parametrize("model", MODELS, ids=_id)
def test_flash_estimate_within_two_percent_of_tflite_size(model):
    report = estimate(PhiNetConfig.from_dict(model["config"]))
    assert abs(report.flash_bytes / model["tflite_bytes"] - 1) < 0.02
