"""Limits: bounded inputs, a resolution search that stays logarithmic, no int64 wrap-around,
and non-finite numbers refused wherever they enter."""

import numpy as np
import pytest

from advisor.boards import load_board
from advisor.config import PhiNetConfig
from advisor.cost import estimate, estimate_totals
from advisor.cost.model import TOTALS
from advisor.errors import AdvisorError
from advisor.solver import diagnose as diagnose_module
from advisor.solver.budgets import budgets_for
from advisor.solver.diagnose import largest_fitting_resolution, smallest_fits
from advisor.solver.space import SearchSpace
from advisor.validation import MAX_RESOLUTION


@pytest.mark.parametrize(
    "ram, macs",
    [("22KB", 10**9), ("26KB", 5 * 10**6), ("64KB", 3 * 10**7), ("200KB", 10**9)],
)
def test_largest_fitting_resolution_equals_a_scan_of_every_side(ram, macs):
    """Tiny RAM budgets are where the arena's fixed part dominates and costs dip at odd sides;
    the per-class bisection must find what a scan of every side finds."""
    budgets = budgets_for(load_board("stm32l476"), ram=ram, macs=macs)
    space = SearchSpace(resolution=160, num_layers=(4, 7))
    fits = [smallest_fits(space.with_resolution(side), budgets) for side in range(1, 160)]
    for top in (2, 40, 65, 66, 97, 130, 160):
        expected = max((side for side in range(1, top) if fits[side - 1]), default=None)
        assert largest_fitting_resolution(space.with_resolution(top), budgets) == expected, top


def test_the_resolution_search_is_logarithmic(monkeypatch):
    """It used to walk every odd side below the resolution: 4,000 checks at 8192."""
    calls = []
    original = diagnose_module.smallest_fits

    def counting(space, budgets):
        calls.append(space.resolution)
        return original(space, budgets)

    monkeypatch.setattr(diagnose_module, "smallest_fits", counting)
    budgets = budgets_for(load_board("stm32h7"))
    found = largest_fitting_resolution(SearchSpace(resolution=MAX_RESOLUTION), budgets)
    assert found is not None and 100 < found < 1000
    assert len(calls) <= 32 * (1 + int(np.log2(MAX_RESOLUTION)))


@pytest.mark.parametrize(
    "args, words",
    [
        (("recommend", "--board", "stm32h7", "--resolution", "100000"), "<= 8,192"),
        (("recommend", "--board", "stm32h7", "--resolution", "0"), ">= 1"),
        (("recommend", "--board", "stm32h7", "--search-resolution", "32,100000"), "<= 8,192"),
        (("recommend", "--board", "stm32h7", "--search-resolution",
          ",".join(map(str, range(1, 200)))), "at most 64"),
        (("build", "--board", "stm32h7", "--data", "x", "--resolution", "0"), ">= 1"),
        (("train", "--data", "x", "--resolution", "-1"), ">= 1"),
        (("cost", "--alpha", "1", "--beta", "1", "--t0", "6", "--layers", "7",
          "--resolution", "0"), ">= 1"),
        (("recommend", "--board", "stm32h7", "--macs", "1e400"), "far too large"),
        (("recommend", "--board", "stm32h7", "--macs", "2.5"), "whole number"),
        (("recommend", "--board", "stm32h7", "--macs", "0.5"), "whole number"),
        (("recommend", "--board", "stm32h7", "--latency-ms", "inf"), "finite"),
        (("recommend", "--board", "stm32h7", "--latency-ms", "nan"), "finite"),
        (("recommend", "--board", "stm32h7", "--classes", "1000000000"), "<= 100,000"),
    ],
)  # fmt: skip
def test_out_of_range_numbers_are_refused_with_exit_2(advisor, args, words):
    code, _out, err = advisor(*args)
    assert code == 2, err
    assert words in err and "Traceback" not in err


def test_the_largest_resolution_answers_quickly_instead_of_hanging(recommend_json):
    code, data = recommend_json("--board", "stm32h7", "--resolution", str(MAX_RESOLUTION))
    assert code == 3
    assert 100 < data["largest_fitting_resolution"] < 1000


@pytest.mark.parametrize("alpha", [1e6, 1e12, [0.5, 1e7]])
def test_estimate_totals_raises_instead_of_wrapping(alpha):
    with pytest.raises(AdvisorError, match="64-bit"):
        estimate_totals(np.asarray(alpha), 1.5, 6.0, 9, 160)


def test_estimate_totals_is_exact_at_the_largest_bounded_inputs():
    """At every bound at once the vectorized int64 totals equal the Python-int ones."""
    fields = dict(num_layers=9, resolution=MAX_RESOLUTION, in_channels=1024, num_classes=100_000)
    exact = estimate(PhiNetConfig(3.0, 1.5, 6.0, **fields))
    totals = estimate_totals(3.0, 1.5, 6.0, **fields)
    for name in TOTALS:
        assert int(totals[name]) == getattr(exact, name) > 0, name


@pytest.mark.parametrize(
    "line, field",
    [
        ("latency_ms = nan", "latency_ms"),
        ("latency_ms = inf", "latency_ms"),
        ("latency_ms = -inf", "latency_ms"),
        ("reserved_ram_bytes = 1.5", "reserved_ram_bytes"),
        ("aliases = 0", "aliases"),  # found by the fuzz suite
    ],
)
def test_non_finite_board_numbers_are_refused(advisor, tmp_path, line, field):
    with open(load_board("stm32h7").path, encoding="utf-8") as handle:
        text = handle.read()
    name = line.split(" = ")[0]
    lines = [row for row in text.splitlines() if not row.startswith(f"{name} =")]
    path = tmp_path / "board.toml"
    path.write_text("\n".join([*lines, line]) + "\n")
    for command in (
        ("recommend", "--board-file", str(path)),
        ("boards", "show", "--board-file", str(path)),
    ):
        code, _out, err = advisor(*command)
        assert code == 2, err
        assert field in err and str(path) in err and "Traceback" not in err


def test_infeasible_json_holds_no_nan(recommend_json):
    """The Arduino UNO's core has no latency model: its smallest latency need was NaN, which is
    not JSON (found by the fuzz suite); it is null."""

    code, data = recommend_json("--board", "arduino-uno")
    assert code == 3 and data["smallest_need"]["latency_ms"] is None
