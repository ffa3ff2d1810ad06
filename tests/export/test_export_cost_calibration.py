"""The cost model against measured figures on a few small PhiNets (conversion is slow, so
only three here; bench/bench_export.py runs the full table of twelve)."""

from __future__ import annotations

import pytest

from advisor.config import PhiNetConfig
from advisor.export.cost_calibration import measure

CONFIGS = [
    PhiNetConfig(alpha=0.15, beta=0.75, t0=4, num_layers=4, resolution=32),
    PhiNetConfig(alpha=0.5, beta=0.75, t0=4, num_layers=5, resolution=24),
    PhiNetConfig(
        alpha=0.3, beta=1.0, t0=4, num_layers=6, resolution=17, h_swish=False, squeeze_excite=False
    ),
]


@pytest.fixture(scope="module")
def rows():
    return [measure(config) for config in CONFIGS]


def test_flash_estimate_is_within_10_percent_and_never_under(rows):
    for row in rows:
        assert 1.0 <= row.flash_ratio <= 1.10, row.to_dict()


def test_peak_ram_matches_the_tflm_activation_plan(rows):
    """peak_ram_bytes models the arena's activation plan (its head): TFLM aligns each
    tensor to 16 bytes, so the plan may exceed the sum of tensor sizes by a few bytes."""
    for row in rows:
        assert abs(row.peak_ram_estimate - row.head_bytes) <= 16 * 4, row.to_dict()


def test_ram_estimate_covers_the_whole_arena(rows):
    """The cost model's arena_bytes (activation plan + TFLite Micro's persistent
    allocations) against the measured minimal arena: never under, at most 10 % over."""
    for row in rows:
        assert 1.0 <= row.arena_ratio <= 1.10, row.to_dict()
