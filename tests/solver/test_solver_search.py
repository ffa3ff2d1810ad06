"""The solver's search and N rule against brute force and against the properties it promises."""

import math

import numpy as np
import pytest

from advisor.boards import load_board
from advisor.scaling import load_prior
from advisor.solver import recommend
from advisor.solver.budgets import Budgets, budgets_for
from advisor.solver.n_rule import choose_num_layers
from advisor.solver.recommendation import solve
from advisor.solver.search import evaluate, search_depth
from advisor.solver.space import SearchSpace


def budgets(flash=2**21, ram=2**19, latency=30.0, macs=None) -> Budgets:
    """stm32h7's latency model (tflm-cmsis-nn, Cortex-M7 at 480 MHz) with these budgets."""
    return budgets_for(load_board("stm32h7"), flash=flash, ram=ram, latency_ms=latency, macs=macs)


@pytest.mark.parametrize(
    "limits",
    [
        dict(),
        dict(ram=60_000),
        dict(flash=40_000, latency=1e4),
        dict(latency=6.0),
        dict(latency=1e4, macs=2 * 10**6),
    ],
)
def test_bisection_finds_the_brute_force_optimum(limits):
    space = SearchSpace(96, num_layers=(7,)).coarse(every=2)
    found = search_depth(space, budgets(**limits), 7).candidates
    alpha, beta, t0 = (
        grid.ravel() for grid in np.meshgrid(space.alphas, space.betas, space.t0s, indexing="ij")
    )
    every = evaluate(space, 7, alpha, beta, t0, budgets(**limits))
    fits = budgets(**limits).fits(every)
    assert fits.any() and not fits.all()
    assert found["params"].max() == every["params"][fits].max()
    assert budgets(**limits).fits(found).all()


def test_latency_column_is_the_latency_model_of_the_cost_models_op_graph():
    from advisor.config import PhiNetConfig
    from advisor.cost import estimate
    from advisor.latency import estimate_ops

    space = SearchSpace(96, num_layers=(6,))
    table = evaluate(space, 6, [0.25, 0.5], [1.0, 1.0], [4.0, 6.0], budgets())
    board = load_board("stm32h7")
    for i, (alpha, t0) in enumerate([(0.25, 4.0), (0.5, 6.0)]):
        report = estimate(PhiNetConfig(alpha, 1.0, t0, 6, 96))
        per_op = estimate_ops(board.latency_model(), board.clock_hz, report.layers)
        assert table["latency_ms"][i] == pytest.approx(per_op.total_ms, rel=1e-9)
    assert table["latency_ms"][1] > table["latency_ms"][0]


@pytest.mark.slow  # a full search at every flash budget of a sweep (about 15 s)
@pytest.mark.parametrize("fitted", [False, True])
@pytest.mark.parametrize(
    "others",
    [dict(ram="16MB", latency_ms=1e5), dict()],
    ids=["flash-binds", "board-ram-and-latency"],
)
def test_more_flash_never_lowers_the_objective(fitted, others, curves_prior):
    prior = curves_prior if fitted else load_prior("study-published")
    board = load_board("stm32h7")
    space = SearchSpace(64, num_layers=tuple(prior.candidate_ns))
    previous = -math.inf
    for flash in np.geomspace(4_000, 4_000_000, 12).astype(int):
        result = solve(board, budgets_for(board, flash=int(flash), **others), space, prior)
        if not result.fits:
            assert previous == -math.inf, "fitted at less flash, not at more"
            continue
        objective = (  # the prior's own prediction: shown only in its regime (160x160)
            result.n_choice.predicted[result.config.num_layers]
            if prior.has_curves
            else result.costs.params
        )
        assert objective >= previous - 1e-9, f"flash {flash}: objective fell to {objective}"
        previous = objective
    assert previous > -math.inf


def test_curves_prior_predicts_accuracy_and_labels_it(curves_prior):
    board = load_board("stm32h7")
    result = solve(
        board, budgets_for(board), SearchSpace(160, num_layers=tuple(range(4, 10))), curves_prior
    )
    data = result.to_dict()
    assert data["estimates"]["accuracy"] is not None and data["estimates"]["accuracy_std"] == 0.8
    assert "test-curves" in data["sources"]["accuracy"]
    predicted = data["n_rule"]["predicted_accuracy"]
    assert data["config"]["num_layers"] == int(max(predicted, key=predicted.get))


def test_n_rule_uses_the_reachable_size_not_the_flash_budget():
    prior = load_prior("study-published")
    # flash alone would say N=9 (2 MB), but RAM/MACs let each N reach far less
    choice = choose_num_layers({4: 3_000, 5: 6_000, 7: 40_000, 9: 90_000}, prior, 2_000_000)
    assert choice.flash_rule_num_layers == 9
    assert choice.num_layers == 7  # 40k lies in N=7's interval; 9 reaches only 90k (< 1 M)
    choice = choose_num_layers({4: 1_500, 5: 2_400, 7: 9_000, 9: 20_000}, prior, 2_000_000)
    assert choice.num_layers == 4  # only N=4 is the best N at its own reachable size
    # no fixed point: the N whose size lies nearest its own interval
    choice = choose_num_layers({4: 3_500, 5: 12_000, 7: 5_000, 9: None}, prior, 2_000_000)
    assert choice.num_layers == 5 and "nearest" in choice.rule


def test_regime_mismatch_is_warned():
    board = load_board("stm32h7")
    result = solve(
        board,
        budgets_for(board),
        SearchSpace(32, num_layers=(4, 5, 7, 9)),
        load_prior("study-published"),
    )
    assert any("32x32" in warning for warning in result.warnings)
    assert any("32x32" in warning for warning in result.to_dict()["warnings"])
    assert any("--prior cifar10-32px-3ep-partial" in warning for warning in result.warnings)


def test_a_size_beyond_the_priors_segmented_span_is_warned():
    board = load_board("stm32h7")
    prior = load_prior("cifar10-32px-3ep-partial")
    result = solve(
        board, budgets_for(board), SearchSpace(32, num_layers=tuple(prior.candidate_ns)), prior
    )
    low, high = prior.params_span
    assert result.costs.params > high
    assert any(
        "parameters lie outside" in w and "cifar10-32px-3ep-partial" in w for w in result.warnings
    )
    small = solve(
        board, budgets(flash=150_000), SearchSpace(32, num_layers=tuple(prior.candidate_ns)), prior
    )
    assert low <= small.costs.params <= high
    assert not any("parameters lie outside" in w for w in small.warnings)


def test_python_api_takes_a_prior_object_and_overrides(curves_prior):
    from advisor.solver import recommend

    result = recommend(load_board("nano33ble"), resolution=96, ram="128KB", prior=curves_prior)
    assert result.fits and result.config.resolution == 96
    assert result.budgets.ram_bytes == 128 * 1024
    assert result.costs.arena_bytes <= 128 * 1024
    # the prior's curves hold at 160x160: at 96x96 no accuracy is predicted, and it says why
    assert result.accuracy is None and "96x96" in result.accuracy_unavailable
    data = result.to_dict()
    assert all(option["accuracy"] is None for option in data["alternatives"])
    assert data["n_rule"]["predicted_accuracy"] == {}  # chose N by them, prints none
    assert result.n_choice.predicted  # the solver still ranks N by the prior's curves


def test_the_flash_budget_is_the_boards_with_the_measured_runtime_and_says_so():
    f746 = load_board("stm32f746")
    budgets = budgets_for(f746)
    assert budgets.flash_bytes == f746.flash_budget_bytes
    assert "measured: linked image under QEMU" in budgets.sources["flash_bytes"]
    reserve = budgets.to_dict()["flash_reserve"]
    assert reserve["measured"] and reserve["runtime_bytes"] > 128 * 1024
    assert budgets_for(f746, flash="512KB").to_dict()["flash_reserve"] is None
    esp = budgets_for(load_board("esp32s3"))
    assert "board profile (assumed)" in esp.sources["flash_bytes"]
    assert esp.to_dict()["flash_reserve"]["measured"] is False


@pytest.mark.parametrize(("board_id", "resolution"), [("stm32f746", 32), ("stm32h7", 32)])
def test_the_recommendation_fits_with_the_measured_runtime(board_id, resolution):
    """The emulated builds found the recommendations planned with the assumed 128 KB reserve
    tens of KB over flash; planned with the measured runtime, model + runtime + HAL fit."""
    board = load_board(board_id)
    result = recommend(board, resolution=resolution)
    reserve = board.flash_reserve()
    assert result.binding[0] == "flash"  # the case the assumed reserve got wrong
    used = result.costs.flash_bytes + reserve.runtime_bytes + reserve.hal_bytes
    assert used <= board.flash_bytes
    assumed = recommend(
        board, resolution=resolution, flash=board.flash_bytes - board.reserved_flash_bytes
    )
    assert assumed.costs.flash_bytes + reserve.runtime_bytes + reserve.hal_bytes > board.flash_bytes
