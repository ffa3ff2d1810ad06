"""advisor.cost without torch: reference figures, the vectorized path, validation."""

from __future__ import annotations

import json

import numpy as np
import pytest

from advisor.config import PhiNetConfig
from advisor.cost import TOTALS, estimate, estimate_totals
from advisor.cost.architecture import make_divisible, phinet_widths
from advisor.errors import AdvisorError


def test_micromind_reference_figures():
    """micromind's docstring: PhiNet((3, 224, 224)) -> {'MAC': 9817670, 'params': 30917}."""
    report = estimate(
        PhiNetConfig(alpha=0.2, beta=1.0, t0=6, num_layers=7, resolution=224, include_top=False)
    )
    assert (report.params, report.macs) == (30_917, 9_817_670)


def test_make_divisible_matches_micromind_rules():
    # round half up to the divisor, never below it, +divisor when >10 % below the value
    assert make_divisible(np.array([0, 1, 4, 11, 12, 13, 20, 36]), 8).tolist() == [
        8,
        8,
        8,
        16,
        16,
        16,
        24,
        40,
    ]
    assert make_divisible(np.array([0, 1, 16, 17]), 1).tolist() == [1, 1, 16, 17]
    assert make_divisible(-3, 8) == 8
    assert [make_divisible(v, 8) for v in (0, 1, 4, 11, 12, 13, 20, 36)] == [
        8,
        8,
        8,
        16,
        16,
        16,
        24,
        40,
    ]


def test_float_truncation_is_micromind_s():
    # 48 * 0.35 = 16.799999999999997 -> int() -> 16, not 17
    assert int(phinet_widths(0.35, 1, 6, 7).stem_channels) == 16
    assert int(phinet_widths(0.35, 1, 6, 7, divisor=8).stem_channels) == 16


def test_blocks_one_to_three_exist_for_short_networks():
    assert [b.index for b in phinet_widths(0.5, 1, 6, 1).blocks] == [0, 1, 2, 3]
    assert [b.stride for b in phinet_widths(0.5, 1, 6, 9).blocks] == [1, 2, 1, 2, 1, 2, 1, 2, 1, 1]


def random_grid(rng: np.random.Generator, size) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    alpha = np.round(rng.uniform(0.1, 1.6, size), rng.integers(1, 4))
    beta = rng.choice([0.5, 0.75, 1.0, 1.05, 1.35, 2.0, 2.7], size)
    t0 = rng.choice([1.5, 3.0, 4.0, 5.0, 6.0, 7.3], size)
    return alpha, beta, t0


@pytest.mark.parametrize(
    "structure",
    [
        dict(num_layers=7, resolution=160),
        dict(num_layers=2, resolution=33, divisor=8, in_channels=1, num_classes=3),
        dict(num_layers=12, resolution=97, downsampling_layers=(4, 6, 9), h_swish=False),
        dict(num_layers=5, resolution=64, squeeze_excite=False, residuals=False, include_top=False),
        dict(num_layers=9, resolution=17, divisor=8),
    ],
)
def test_vectorized_totals_equal_per_config_estimates(structure):
    alpha, beta, t0 = random_grid(np.random.default_rng(7), 60)
    alpha[:4] = [0.1, 0.11, 0.12, 0.35]  # divisor 8: residuals in block 0 appear and vanish
    totals = estimate_totals(alpha, beta, t0, **structure)
    for i in range(len(alpha)):
        report = estimate(
            PhiNetConfig(alpha=float(alpha[i]), beta=float(beta[i]), t0=float(t0[i]), **structure)
        )
        for name in TOTALS:
            assert totals[name][i] == getattr(report, name), (name, i)
        for name, value in report.work_totals().items():  # what the latency model charges
            assert totals[name][i] == value, (name, i)


def test_vectorized_totals_broadcast():
    alpha = np.array([[0.1], [0.25], [0.9]])
    t0 = np.array([3, 4, 5, 6])
    totals = estimate_totals(alpha, 1.35, t0, num_layers=6, resolution=96)
    assert all(totals[name].shape == (3, 4) and totals[name].dtype == np.int64 for name in TOTALS)
    assert totals["macs"][1, 2] == estimate(PhiNetConfig(0.25, 1.35, 5, 6, 96)).macs
    totals["macs"][0, 0] = 0  # the arrays are the caller's own, writable
    scalar = estimate_totals(0.25, 1.35, 5, num_layers=np.int64(6), resolution=96)
    assert scalar["params"].shape == () and scalar["params"] == totals["params"][1, 2]


def test_layers_add_up_to_totals():
    report = estimate(PhiNetConfig(0.5, 1.05, 5, 7, 128))
    for name in ("params", "params_folded", "macs"):
        assert sum(getattr(layer, name) for layer in report.layers) == getattr(report, name)
    assert report.peak_ram_bytes == max(layer.live_bytes for layer in report.layers)
    assert report.flash_bytes > sum(layer.flash_bytes for layer in report.layers)
    assert report.flash_bytes > report.params_folded  # int32 biases, quantization, overhead


def test_latency_work_of_the_layers():
    report = estimate(PhiNetConfig(0.5, 1.05, 5, 7, 128))
    work = report.work_totals()
    assert work["ops"] == len(report.layers)
    weighted = [layer for layer in report.layers if layer.op_class != "elementwise"]
    assert {layer.op for layer in report.layers if layer.op_class == "conv_1x1"} == {"CONV_2D"}
    # MACs of the int8 kernels: the cost model's torchinfo MACs less the folded BatchNorm
    mac_classes = ("conv_1x1", "depthwise", "fully_connected")
    bn = sum(2 * layer.output_shape[2] for layer in weighted if layer.params > layer.params_folded)
    fc_bias = report.layers[-1].output_shape[2]
    assert sum(work[f"work_{c}"] for c in mac_classes) == report.macs - bn - fc_bias
    assert work["work_pooling"] == sum(
        layer.input_shape[0] * layer.input_shape[1] * layer.input_shape[2]
        for layer in report.layers
        if layer.op == "MEAN"
    )


def test_peak_ram_at_least_the_largest_tensor():
    for config in [
        PhiNetConfig(0.1, 1, 1, 1, 224),
        PhiNetConfig(1.5, 1, 6, 9, 160),
        PhiNetConfig(0.3, 0.75, 4, 4, 31, in_channels=4, h_swish=False),
    ]:
        report = estimate(config)
        largest = max(
            h * w * c
            for layer in report.layers
            for h, w, c in (layer.input_shape, layer.output_shape)
        )
        assert report.peak_ram_bytes >= largest


def test_h_swish_is_its_own_op_and_tensor():
    """HARD_SWISH keeps its input and output alive at once; ReLU6 is fused and adds none."""
    with_hswish = {layer.name: layer for layer in estimate(PhiNetConfig(0.5, 1, 6, 7, 160)).layers}
    without = estimate(PhiNetConfig(0.5, 1, 6, 7, 160, h_swish=False))
    activation = with_hswish["block1.expand_activation"]
    assert activation.op == "HARD_SWISH" and activation.output_shape == (80, 80, 72)
    assert activation.live_bytes == 2 * 80 * 80 * 72
    assert not any(layer.op == "HARD_SWISH" for layer in without.layers)
    # the stride-2 PAD (72 x 82 x 82 beside its 72 x 80 x 80 input) sets the peak either way
    assert without.peak_layer.name == "block1.pad"
    assert without.peak_ram_bytes == 72 * (80 * 80 + 82 * 82)


def test_to_dict_is_json_with_source():
    data = estimate(PhiNetConfig(0.25, 1, 6, 7, 32)).to_dict()
    assert data["source"] == "cost model"
    assert set(TOTALS) <= data.keys() and data["layers"][0]["name"] == "stem.depthwise"
    assert json.loads(json.dumps(data)) == data | {"layers": json.loads(json.dumps(data["layers"]))}


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: estimate({"alpha": 0.5}), "PhiNetConfig"),
        (lambda: estimate_totals([0.5, -1.0], 1, 6, 7, 160), "alpha"),
        (lambda: estimate_totals(0.5, float("nan"), 6, 7, 160), "beta"),
        (lambda: estimate_totals(0.5, 1, "six", 7, 160), "t0"),
        (lambda: estimate_totals([0.5, 0.6], [1, 1, 1], 6, 7, 160), "broadcast"),
        (lambda: estimate_totals(0.5, 1, 6, 0, 160), "num_layers"),
        (lambda: estimate_totals(0.5, 1, 6, 7, 160, divisor=0), "divisor"),
        (lambda: estimate_totals(0.5, 1, 6, 7, 160, kernel=5), "option"),
        (lambda: PhiNetConfig(0.0, 1, 6, 7), "alpha"),
        (lambda: estimate(PhiNetConfig(float("inf"), 1, 6, 7)), "alpha must be a finite number"),
    ],
)
def test_bad_input_raises_advisor_error(call, message):
    with pytest.raises(AdvisorError, match=message):
        call()


@pytest.mark.parametrize(
    "alpha, beta, t0, num_layers, card",
    [
        (0.25, 1, 5, 7, 39.1e3),
        (0.25, 1, 6, 7, 49.8e3),
        (0.35, 1, 6, 7, 88.9e3),
        (0.75, 1, 6, 5, 107.5e3),
        (3, 0.75, 6, 7, 4.39e6),
    ],
)
def test_parameters_match_micromind_model_cards(alpha, beta, t0, num_layers, card):
    """The published CIFAR-10 PhiNets (10 classes, 160x160), rounded as the cards print."""
    params = estimate(PhiNetConfig(alpha, beta, t0, num_layers, 160)).params
    digits = 2 if card >= 1e6 else 1
    scale = 1e6 if card >= 1e6 else 1e3
    assert round(params / scale, digits) == round(card / scale, digits)
