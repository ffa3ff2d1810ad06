"""The shipped latency model: it is the fit of the published rows (refit here), it
reproduces them within its stated error, and it is what every command uses."""

import math

import numpy as np
import pytest

from advisor.errors import AdvisorError
from advisor.latency import CLASSES, ENGINES, load_coefficients, pair_model
from advisor.latency.model import pair_parameters


def test_required_engines_are_calibrated():
    data = load_coefficients()
    for engine in ENGINES:
        assert engine in data["coefficients"]["engine"]
        assert any(row["engine"] == engine for row in data["rows"])
    assert data["classes"] == list(CLASSES)


def test_stored_predictions_are_the_runtime_formula():
    data = load_coefficients()
    for row in data["rows"]:
        per_unit, overhead = pair_parameters(data["coefficients"], row["core"], row["engine"])
        cycles = np.dot(row["work"], per_unit) + row["ops"] * overhead
        assert cycles / row["clock_hz"] * 1000 == pytest.approx(row["predicted_ms"], rel=1e-3)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_calibration_rows_are_reproduced_within_the_stated_error(engine):
    """In-sample error of the model-level rows of each engine: the median is within the
    typical error every printed latency states, the worst within the stated worst."""
    data = load_coefficients()
    stated = data["errors"][engine]
    rows = [
        r
        for r in data["rows"] + data["scored_extra"]
        if r["engine"] == engine and not r["workload"].startswith("pd.")
    ]
    errors = [abs(r["predicted_ms"] / r["latency_ms"] - 1) for r in rows]
    assert len(errors) == stated["fit"]["rows"]
    assert max(errors) <= stated["fit"]["worst"] + 1e-3
    if stated["typical"] is None:  # nothing held out to check on: the error is unknown
        assert stated["loo_model"].get("median") is None
        assert stated["loo_board"].get("median") is None
    else:
        assert np.median(errors) <= stated["typical"] + 1e-9


def test_rp2040_layers_keep_depthwise_slower_per_mac_than_1x1():
    """pico-tflmicro: depthwise ~0.025 MACs/cycle, 1x1 conv ~0.096 (the per-op classes)."""
    model = pair_model("cortex-m0plus", "tflm-cmsis-nn")
    per_mac = dict(zip(CLASSES, model.cycles_per_unit))
    assert per_mac["depthwise"] > 2 * per_mac["conv_1x1"]


@pytest.mark.slow
def test_the_shipped_coefficients_are_the_fit_of_the_published_rows(latency_data):
    """Never hand-tuned: refitting the published rows gives the shipped coefficients."""
    pytest.importorskip("scipy")
    pytest.importorskip("tflite_micro", reason="the refit parses the published .tflite files")
    from advisor.latency.fit import fit
    from advisor.latency.published import load_rows

    shipped = load_coefficients()["coefficients"]
    refit = fit(load_rows(latency_data))
    for group in ("core", "engine", "pair"):
        assert set(refit[group]) == set(shipped[group])
        for key, value in shipped[group].items():
            assert refit[group][key] == pytest.approx(value, abs=1e-3), (group, key)
    for core, engine in (("cortex-m7", "tflm-cmsis-nn"), ("xtensa-lx7", "tflm-esp-nn")):
        assert pair_parameters(refit, core, engine)[1] == pytest.approx(
            pair_parameters(shipped, core, engine)[1], rel=1e-3
        )


def test_unknown_or_uncalibrated_names_are_clear_errors():
    with pytest.raises(AdvisorError, match="unknown inference engine 'tvm'.*known engines"):
        pair_model("cortex-m7", "tvm")
    with pytest.raises(AdvisorError, match="unknown core family 'cortex-m99'"):
        pair_model("cortex-m99", "tflm-cmsis-nn")
    with pytest.raises(AdvisorError, match="no calibration for core 'avr'"):
        pair_model("avr", "tflm-reference")


def test_an_uncalibrated_pair_says_it_is_an_extrapolation_and_from_what():
    model = pair_model("cortex-m4f", "tflm-cmsis-nn")
    assert model.calibration_rows == 0
    assert model.extrapolation.startswith("extrapolated: no published tflm-cmsis-nn figure")
    assert "cortex-m4f" in model.extrapolation
    assert model.source.startswith("estimated: latency model (tflm-cmsis-nn, calibrated on ")
    assert math.isfinite(model.overhead_cycles)
