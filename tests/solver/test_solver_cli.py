"""`advisor recommend` through the real entry point: every board, bad input, JSON shape."""

import pytest

from advisor.boards import list_boards, load_board
from advisor.config import PhiNetConfig
from advisor.cost import estimate

BOARD_IDS = [board.id for board in list_boards(include_user=False)]


@pytest.mark.parametrize("board_id", BOARD_IDS)
def test_every_board_gets_a_config_the_cost_model_confirms_or_exit_3(board_id, recommend_json):
    code, data = recommend_json("--board", board_id)
    board = load_board(board_id)
    if code == 3:
        assert data["fits"] is False
        over = data["over_budget"]
        assert over, "nothing fits, yet no budget is named as exceeded"
        need, budgets = data["smallest_need"], data["budgets"]
        assert any(
            need[key] > budgets[limit]
            for key, limit in (
                ("flash_bytes", "flash_bytes"),
                ("arena_bytes", "ram_bytes"),
                ("latency_ms", "latency_ms"),
            )
        )
        return
    assert code == 0
    report = estimate(PhiNetConfig.from_dict(data))
    assert report.flash_bytes <= board.flash_budget_bytes
    assert report.arena_bytes <= board.ram_budget_bytes  # the whole arena, not activations only
    if board.core_family != "avr":
        assert data["estimates"]["latency_ms"] <= board.latency_ms
        assert data["sources"]["latency_ms"] == board.latency_model().source
    assert data["estimates"]["params"] == report.params
    assert data["estimates"]["peak_ram_bytes"] == report.peak_ram_bytes
    assert data["estimates"]["arena_bytes"] == report.arena_bytes
    assert data["use_percent"]["ram"] == round(100 * report.arena_bytes / board.ram_budget_bytes, 1)


def test_stm32h7_json_shape_and_round_trip(recommend_json):
    code, data = recommend_json("--board", "stm32h7")
    assert code == 0 and data["fits"] is True
    assert {"alpha", "beta", "t0", "num_layers", "resolution", "num_classes", "in_channels"} <= set(
        data["config"]
    )
    assert {
        "params",
        "flash_bytes",
        "peak_ram_bytes",
        "arena_bytes",
        "macs",
        "latency_ms",
        "accuracy",
        "accuracy_std",
    } <= set(data["estimates"])
    assert data["estimates"]["peak_ram_bytes"] < data["estimates"]["arena_bytes"]
    assert "TFLite Micro" in data["sources"]["arena_bytes"]
    assert {"flash_bytes", "ram_bytes", "latency_ms", "engine"} <= set(data["budgets"])
    assert {"board", "prior", "n_rule", "binding", "warnings", "sources", "alternatives"} <= set(
        data
    )
    assert data["binding"] in ("flash", "ram", "latency", "search range")
    config = PhiNetConfig.from_dict(data)
    assert config.to_dict() == data["config"]
    assert (config.resolution, config.num_classes, config.in_channels) == (160, 10, 3)
    # the default prior: the study's N rule; accuracy only from the published N=7 curve
    assert not data["prior"]["has_curves"] and data["prior"]["predicts_accuracy"]
    if data["config"]["num_layers"] == 7:
        assert data["sources"]["accuracy"].startswith("predicted: literature prior")
    else:
        assert data["estimates"]["accuracy"] is None and data["estimates"]["accuracy_unavailable"]
    assert data["nearest_networks"]
    budgets = data["budgets"]
    estimates = data["estimates"]
    from advisor.latency import estimate_ops

    board = load_board("stm32h7")
    report = estimate(config)
    per_op = estimate_ops(board.latency_model(), board.clock_hz, report.layers)
    assert estimates["latency_ms"] == pytest.approx(per_op.total_ms, abs=1e-3)
    assert estimates["latency_ms"] <= budgets["latency_ms"]
    assert data["sources"]["latency_ms"].startswith("estimated: latency model (tflm-cmsis-nn")
    assert 0 < estimates["latency_typical_error"] < 1
    assert 1 <= len(data["alternatives"]) <= 5
    for option in data["alternatives"]:
        PhiNetConfig.from_dict(option["config"])
        assert option["params"] <= estimates["params"]
        assert option["latency_ms"] <= budgets["latency_ms"]
        assert option["arena_bytes"] <= budgets["ram_bytes"]


def test_overrides_set_the_budgets_and_are_labelled(recommend_json):
    code, data = recommend_json(
        "--board", "stm32h7", "--flash", "64KB", "--ram", "200KB", "--latency-ms", "50"
    )
    assert code == 0
    budgets = data["budgets"]
    assert budgets["flash_bytes"] == 64 * 1024 and budgets["ram_bytes"] == 200 * 1024
    board = load_board("stm32h7")
    assert budgets["latency_ms"] == 50 and budgets["sources"]["latency_ms"] == "command line"
    assert data["estimates"]["latency_ms"] <= 50
    assert board.latency_ms == 100
    assert budgets["sources"]["flash_bytes"] == "command line"
    assert budgets["sources"]["ram_bytes"] == "command line"
    assert data["estimates"]["flash_bytes"] <= 64 * 1024
    assert data["estimates"]["arena_bytes"] <= 200 * 1024


def test_arduino_uno_nothing_fits_at_any_resolution_exit_3_names_other_boards(
    advisor, recommend_json
):
    """1.5 KB of RAM holds no TFLite Micro arena: its persistent part alone is ~15 KB."""
    code, data = recommend_json("--board", "arduino-uno")
    assert code == 3 and data["fits"] is False
    assert "ram" in data["over_budget"]
    assert data["smallest_need"]["arena_bytes"] > data["budgets"]["ram_bytes"]
    assert data["largest_fitting_resolution"] is None
    assert data["boards_that_fit"] and "another board" in data["fixes"][0]
    code, _out, err = advisor("recommend", "--board", "arduino-uno")
    assert code == 3
    assert "no PhiNet fits arduino-uno" in err and "--resolution" not in err


def test_msp432_nothing_fits_at_160_exit_3_with_the_largest_resolution(advisor, recommend_json):
    code, data = recommend_json("--board", "msp432p401r")
    assert code == 3 and data["fits"] is False
    assert "ram" in data["over_budget"]
    assert data["smallest_need"]["arena_bytes"] > data["budgets"]["ram_bytes"]
    largest = data["largest_fitting_resolution"]
    assert largest is not None and 1 <= largest < 160
    # the suggested resolution really fits, and one pixel more does not
    assert recommend_json("--board", "msp432p401r", "--resolution", str(largest))[0] == 0
    assert recommend_json("--board", "msp432p401r", "--resolution", str(largest + 1))[0] == 3
    code, _out, err = advisor("recommend", "--board", "msp432p401r")
    assert code == 3
    assert "no PhiNet fits msp432p401r" in err and f"--resolution {largest}" in err


@pytest.mark.parametrize(
    "args, words",
    [
        (("--board", "no-such-board"), "unknown board"),
        (("--board", "stm32h7", "--flash", "-5KB"), "negative"),
        (("--board", "stm32h7", "--ram", "0"), "positive"),
        (("--board", "stm32h7", "--macs", "-1"), "positive"),
        (("--board", "stm32h7", "--latency-ms", "-3"), "positive"),
        (("--board", "stm32h7", "--resolution", "0"), "resolution"),
        (("--board", "stm32h7", "--classes", "0"), "--classes"),
        (("--board", "stm32h7", "--search-resolution", "32,0"), "search-resolution"),
        (("--board", "stm32h7", "--search-resolution", "32", "--resolution", "64"), "not both"),
        (("--board", "stm32h7", "--prior", "no-such-prior"), "prior"),
        ((), "no board given"),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_2(advisor, args, words):
    code, out, err = advisor("recommend", *args)
    assert code == 2
    assert words in err
    assert "Traceback" not in err and out == ""


def test_search_resolution_picks_the_fitting_one_nearest_the_regime(recommend_json):
    code, data = recommend_json("--board", "msp432p401r", "--search-resolution", "32,64,96,128")
    assert code == 0
    rows = {row["resolution"]: row for row in data["resolutions"]}
    assert set(rows) == {32, 64, 96, 128}
    fitting = [r for r, row in rows.items() if row["fits"]]
    assert not rows[128]["fits"] and rows[128]["over_budget"] == ["ram"]
    assert data["config"]["resolution"] == max(fitting)  # nearest to the prior's 160
    assert any("resolution" in warning for warning in data["warnings"])


def test_table_output_names_the_sources(advisor):
    code, out, _err = advisor("recommend", "--board", "stm32h7")
    assert code == 0
    assert "cost model" in out and "board profile" in out
    assert "binding constraint" in out


def test_a_fitted_prior_file_gives_accuracy_labelled_with_its_source(
    recommend_json, curves_prior, tmp_path
):
    path = curves_prior.save(tmp_path / "test-curves.json")
    code, data = recommend_json("--board", "stm32h7", "--prior", str(path))
    assert code == 0
    estimates = data["estimates"]
    assert estimates["accuracy"] is not None and estimates["accuracy_std"] == pytest.approx(0.8)
    assert "test-curves" in data["sources"]["accuracy"]
    assert data["prior"]["name"] == "test-curves" and data["prior"]["has_curves"]
    for option in data["alternatives"]:
        assert option["accuracy"] is not None
        assert option["accuracy"] <= estimates["accuracy"] + 1e-9


def test_a_board_file_is_accepted_and_a_flash_override_shortfall_names_the_option(
    recommend_json, tmp_path
):
    with open(load_board("stm32h7").path) as builtin:
        text = builtin.read()
    path = tmp_path / "my-board.toml"
    path.write_text(text.replace('id = "stm32h7"', 'id = "my-board"'))
    code, data = recommend_json("--board-file", str(path))
    assert code == 0 and data["board"]["id"] == "my-board"
    code, data = recommend_json("--board-file", str(path), "--flash", "4KB")
    assert code == 3 and data["over_budget"] == ["flash"]
    assert data["largest_fitting_resolution"] is None  # flash does not depend on resolution
    assert any("--flash" in fix for fix in data["fixes"])


def test_search_resolution_where_nothing_fits_reports_the_smallest(recommend_json):
    code, data = recommend_json("--board", "msp432p401r", "--search-resolution", "160,128")
    assert code == 3 and data["fits"] is False
    assert data["resolution"] == 128
    assert [row["fits"] for row in data["resolutions"]] == [False, False]
    assert data["largest_fitting_resolution"] < 128


def test_a_latency_shortfall_names_the_latency_that_would_fit(recommend_json):
    """The RP2040 (Cortex-M0+, calibrated on pico-tflmicro's timings) cannot run a 160 px
    PhiNet in its 100 ms budget; the latency the diagnosis names does fit."""
    code, data = recommend_json("--board", "rp2040")
    assert code == 3 and data["over_budget"] == ["latency"]
    needed = data["latency_ms_needed"]
    assert needed > data["budgets"]["latency_ms"]
    assert data["smallest_need"]["latency_ms"] > data["budgets"]["latency_ms"]
    assert any("--latency-ms" in fix for fix in data["fixes"])
    code, data = recommend_json("--board", "rp2040", "--latency-ms", str(needed))
    assert code == 0 and data["estimates"]["latency_ms"] <= needed


def test_engine_override_changes_the_latency_estimate(recommend_json):
    _, default = recommend_json("--board", "stm32h7", "--resolution", "96")
    code, reference = recommend_json(
        "--board", "stm32h7", "--resolution", "96", "--engine", "tflm-reference"
    )
    assert code == 0 and reference["budgets"]["engine"] == "tflm-reference"
    assert default["budgets"]["engine"] == "tflm-cmsis-nn"
    assert reference["sources"]["latency_ms"].startswith(
        "estimated: latency model (tflm-reference, calibrated on"
    )
    # reference kernels are slower: latency binds and the network is smaller
    assert reference["binding"] == "latency"
    assert reference["estimates"]["params"] < default["estimates"]["params"]


def test_table_prints_latency_with_its_source_and_uncertainty(advisor):
    code, out, _err = advisor("recommend", "--board", "stm32h7")
    assert code == 0
    assert "estimated: latency model (tflm-cmsis-nn, calibrated on" in " ".join(out.split())
    assert " ± " in out


def test_the_default_prediction_is_the_literature_curve_beside_the_nearest_networks(
    advisor, recommend_json
):
    code, data = recommend_json("--board", "stm32h7")
    assert code == 0 and data["config"]["num_layers"] == 7
    estimates = data["estimates"]
    # near the 88.9k published network (88.08 %); the exact size follows the latency model
    assert 80_000 < estimates["params"] < 100_000
    assert estimates["accuracy"] == pytest.approx(88.0, abs=0.3)
    assert 0.758 <= estimates["accuracy_std"] < 1.5
    assert data["sources"]["accuracy"].startswith("predicted: literature prior (phinet-published")
    assert {part["from"] for part in data["prior"]["parts"]} == {
        "study-published",
        "phinet-published",
        None,
    }
    nearest = data["nearest_networks"]
    assert 1 <= len(nearest) <= 5 and all(item["same_num_layers"] for item in nearest[:3])
    assert (nearest[0]["params"], nearest[0]["accuracy"]) == (88_901, 88.08)
    assert nearest[0]["kind"] == "literature" and "huggingface.co/micromind" in nearest[0]["source"]
    assert [item["log_distance"] for item in nearest] == sorted(
        item["log_distance"] for item in nearest
    )
    for option in data["alternatives"]:  # the curve was fitted on 39,067-4,394,545 params
        assert option["accuracy_extrapolated"] == (option["params"] < 39_067)
    code, out, _err = advisor("recommend", "--board", "stm32h7")
    shown = f"{estimates['accuracy']:.1f} ± {estimates['accuracy_std']:.1f} %"
    assert code == 0 and shown in out and "Nearest measured networks" in out


@pytest.mark.parametrize(
    "args, outside",
    [(("--resolution", "32"), "32x32"), (("--dataset", "cifar100"), "cifar100")],
)
def test_no_prediction_outside_the_priors_regime(advisor, recommend_json, args, outside):
    code, data = recommend_json("--board", "stm32h7", *args)
    assert code == 0
    assert data["estimates"]["accuracy"] is None and data["sources"]["accuracy"] is None
    assert outside in data["estimates"]["accuracy_unavailable"]
    assert all(option["accuracy"] is None for option in data["alternatives"])
    nearest = data["nearest_networks"]
    assert nearest  # evidence instead of a curve
    if outside == "32x32":
        assert nearest[0]["regime"]["resolution"] == 32
    else:
        assert {item["regime"]["dataset"] for item in nearest} == {"CIFAR-100"}
    code, out, _err = advisor("recommend", "--board", "stm32h7", *args)
    assert code == 0 and "no prediction" in out and "literature prior" not in out
