"""The one numeric validator, and that every place that takes a number uses it alike."""

import math

import numpy as np
import pytest

from advisor.boards import load_board
from advisor.config import PhiNetConfig
from advisor.errors import AdvisorError
from advisor.solver.budgets import budgets_for
from advisor.solver.space import SearchSpace
from advisor.validation import INT64_MAX, MAX_RESOLUTION, integer, real


@pytest.mark.parametrize(
    "value, expected",
    [(7, 7), (np.int64(7), 7), (7.0, 7), ("7", 7), ("20_000_000", 20_000_000), ("2e7", 2 * 10**7)],
)
def test_integer_accepts_whole_numbers_of_every_kind(value, expected):
    result = integer(value, "count")
    assert result == expected and type(result) is int


@pytest.mark.parametrize(
    "value, words",
    [
        (2.5, "whole number"),
        ("2.5", "whole number"),
        ("0.5", "whole number"),
        ("1e400", "far too large"),
        ("inf", "finite"),
        (float("nan"), "finite"),
        (True, "whole number"),
        ("abc", "not a number"),
        (None, "whole number"),
        (2**63, "<= 9,223,372,036,854,775,807"),
    ],
)
def test_integer_refuses_what_is_not_a_whole_number_naming_the_field(value, words):
    with pytest.raises(AdvisorError, match="count") as raised:
        integer(value, "count", fix="e.g. 7")
    assert words in str(raised.value) and str(raised.value).endswith("e.g. 7")


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan, "inf", "nan", "1e400", 10**400])
def test_real_refuses_non_finite_values(value):
    with pytest.raises(AdvisorError, match="latency"):
        real(value, "latency")


def test_numpy_scalars_are_accepted_the_same_everywhere():
    """Before, np.int64(7) passed SearchSpace and was refused by PhiNetConfig."""
    config = PhiNetConfig(np.float64(0.5), 1, 6, np.int64(7), resolution=np.int64(32))
    assert config.num_layers == 7 and type(config.num_layers) is int
    assert config.resolution == 32 and type(config.resolution) is int
    space = SearchSpace(resolution=np.int64(32), num_classes=np.int32(10))
    assert space.resolution == 32 and type(space.resolution) is int
    board = load_board("stm32h7").with_overrides(
        flash_bytes=np.int64(2**21), latency_ms=np.int64(50)
    )
    assert board.flash_bytes == 2**21 and type(board.flash_bytes) is int
    budgets = budgets_for(board, macs=np.int64(10**7), latency_ms=np.float32(20))
    assert budgets.macs == 10**7 and budgets.latency_ms == 20


@pytest.mark.parametrize(
    "field, value",
    [
        ("resolution", 0),
        ("resolution", MAX_RESOLUTION + 1),
        ("num_classes", 0),
        ("alpha", math.inf),
    ],
)
def test_config_and_search_space_share_the_bounds(field, value):
    fields = dict(alpha=0.5, beta=1, t0=6, num_layers=7)
    with pytest.raises(AdvisorError, match=field):
        PhiNetConfig(**{**fields, field: value})
    if field in ("resolution", "num_classes"):
        with pytest.raises(AdvisorError, match=field):
            SearchSpace(**{"resolution": 32, field: value})


@pytest.mark.parametrize(
    "overrides, words",
    [
        (dict(macs="2.5"), "MAC budget must be a whole number"),
        (dict(macs="0.5"), "MAC budget must be a whole number"),
        (dict(macs="1e400"), "MAC budget is far too large"),
        (dict(macs=str(2**63)), "MAC budget must be an integer <="),
        (dict(latency_ms=math.inf), "latency target must be a finite number"),
        (dict(latency_ms=math.nan), "latency target must be a finite number"),
    ],
)
def test_budgets_refuse_what_used_to_crash_or_truncate(overrides, words):
    with pytest.raises(AdvisorError, match=words):
        budgets_for(load_board("stm32h7"), **overrides)


def test_budgets_take_exact_scientific_counts():
    assert budgets_for(load_board("stm32h7"), macs="2e7").macs == 20_000_000
    assert budgets_for(load_board("stm32h7"), macs=str(INT64_MAX)).macs == INT64_MAX
