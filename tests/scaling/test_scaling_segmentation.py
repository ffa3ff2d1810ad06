import math

import numpy as np
import pytest
from scaling_synthetic import PARAM_RANGES, TRUE_CROSSOVERS, TRUE_CURVES, synthetic_table

from advisor.scaling import fit_curve
from advisor.scaling import segmentation as seg
from advisor.scaling.segmentation import Interval


def boundaries(intervals):
    return [iv.high for iv in intervals[:-1]]


def decades_apart(a, b):
    return abs(math.log10(a / b))


def test_merge_tiles_the_budget_range():
    grid = np.array([1.0, 2, 4, 8, 16, 32])
    labels = np.array([4, 4, 0, 4, 7, 7])  # budget 4 has no network in any window
    intervals = seg.merge(grid, labels)
    assert intervals == [Interval(1.0, 16.0, 4), Interval(16.0, 32.0, 7)]


def test_smoothing_drops_a_planted_narrow_interval_and_splits_the_gap_at_its_middle():
    narrow = Interval(1e4, 1.2e4, 5)  # log10(1.2) = 0.079 decades < 0.13
    intervals = [Interval(1e3, 1e4, 4), narrow, Interval(1.2e4, 1e6, 7)]
    smoothed = seg.smooth(intervals)
    middle = math.sqrt(1e4 * 1.2e4)
    assert smoothed == [Interval(1e3, middle, 4), Interval(middle, 1e6, 7)]


def test_smoothing_rejoins_equal_neighbours_and_gives_end_gaps_to_the_nearest():
    intervals = [
        Interval(1e3, 1.1e3, 9),
        Interval(1.1e3, 1e5, 7),
        Interval(1e5, 1.2e5, 5),
        Interval(1.2e5, 1e7, 7),
        Interval(1e7, 1.05e7, 4),
    ]
    assert seg.smooth(intervals) == [Interval(1e3, 1.05e7, 7)]


def test_smoothing_with_every_interval_narrow_keeps_the_widest():
    intervals = [Interval(1e3, 1.1e3, 4), Interval(1.1e3, 1.3e3, 5)]
    assert seg.smooth(intervals) == [Interval(1e3, 1.3e3, 5)]


def test_wide_intervals_survive_smoothing_unchanged():
    intervals = [Interval(1e3, 1e4, 4), Interval(1e4, 1e6, 7)]
    assert seg.smooth(intervals) == intervals


def test_segmentation_from_fits_recovers_known_crossovers():
    table = synthetic_table(noise=0.3, seed=5)
    fits = {n: fit_curve("generalized_hyperbolic", p, a) for n, (p, a) in table.by_n().items()}
    intervals = seg.smooth(seg.segment_fits(fits, table.params.min(), table.params.max()))
    assert [iv.n for iv in intervals] == [4, 5, 7, 9]
    for found, true in zip(boundaries(intervals), TRUE_CROSSOVERS):
        assert decades_apart(found, true) < 0.1


def test_segmentation_from_noise_free_raw_data_recovers_known_crossovers():
    table = synthetic_table(noise=0.0, per_n=400, seed=6)
    raw = seg.segment_raw(table)
    intervals = seg.smooth(raw)
    assert [iv.n for iv in intervals] == [4, 5, 7, 9]
    for found, true in zip(boundaries(intervals), TRUE_CROSSOVERS):
        # each N's best network in the window [budget / 1.35, budget] sits anywhere in it
        assert decades_apart(found, true) < math.log10(seg.DELTA)


def test_raw_accuracy_takes_the_best_network_in_the_window():
    table = synthetic_table(per_n=20)
    grid = seg.budgets(1e3, 1e7, 50)
    curves = seg.raw_accuracy(table, grid)
    params, accuracy = table.by_n()[7]
    i = 30
    inside = (params >= grid[i] / seg.DELTA) & (params <= grid[i])
    expected = accuracy[inside].max() if inside.any() else np.nan
    np.testing.assert_equal(curves[7][i], expected)
    low, _high = PARAM_RANGES[9]
    assert np.all(np.isnan(curves[9][grid < low]))


def test_budgets_are_log_spaced_over_the_range():
    grid = seg.budgets(1e3, 1e7)
    assert len(grid) == seg.BUDGETS == 1000
    assert grid[0] == pytest.approx(1e3) and grid[-1] == pytest.approx(1e7)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 4 / 999)


def test_true_curves_cross_where_the_fixture_says():
    # guards the fixture itself: the curves really cross at TRUE_CROSSOVERS
    for (n, m), budget in zip([(4, 5), (5, 7), (7, 9)], TRUE_CROSSOVERS):
        (a, phi, c), (b, _, d) = TRUE_CURVES[n], TRUE_CURVES[m]
        assert c - a * budget**-phi == pytest.approx(d - b * budget**-phi)
