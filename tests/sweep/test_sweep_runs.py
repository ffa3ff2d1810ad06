"""Real tiny sweeps (training included) through the CLI, in process."""

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from sweep_tiny import TINY_CONFIGS, TINY_REGIME

from advisor.cli import cli
from advisor.config import PhiNetConfig
from advisor.cost import estimate
from advisor.errors import AdvisorError
from advisor.scaling.results import load_results


def sweep(*args):
    result = CliRunner().invoke(cli, ["sweep", *args, "--json"])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def rows(store):
    db = sqlite3.connect(store)
    db.row_factory = sqlite3.Row
    return [dict(row) for row in db.execute("SELECT * FROM runs ORDER BY run_id")]


@pytest.fixture(scope="module")
def swept(tmp_path_factory, tiny_data):
    folder = tmp_path_factory.mktemp("swept")
    grid = folder / "grid.json"
    grid.write_text(json.dumps({"configs": TINY_CONFIGS[:2]}))
    store = folder / "sweep.db"
    args = [
        "--grid",
        str(grid),
        "--data",
        str(tiny_data),
        *TINY_REGIME,
        "--store",
        str(store),
        "--cache-dir",
        str(folder / "cache"),
    ]
    summary = sweep(*args)
    return {"args": args, "store": store, "summary": summary, "rows": rows(store)}


def test_a_sweep_stores_one_finished_row_per_config_with_its_regime(swept):
    summary, stored = swept["summary"], swept["rows"]
    assert (summary["total"], summary["done"], summary["failed"], summary["ran_now"]) == (
        2,
        2,
        0,
        2,
    )
    assert len(stored) == 2 and {row["status"] for row in stored} == {"done"}
    for row in stored:
        config = PhiNetConfig.from_dict(json.loads(row["config"]))
        assert (config.resolution, config.num_classes) == (8, 2)
        cost = estimate(config).to_dict()
        assert (row["params"], row["macs"], row["peak_ram_bytes"], row["flash_bytes"]) == (
            cost["params"],
            cost["macs"],
            cost["peak_ram_bytes"],
            cost["flash_bytes"],
        )
        assert 0 <= row["accuracy"] <= 100 and 0 <= row["val_accuracy"] <= 100
        assert (row["dataset"], row["resolution"], row["epochs"], row["seed"]) == ("tiny", 8, 1, 0)
        regime = json.loads(row["regime"])
        assert regime["recipe"]["batch_size"] == 8 and "seed" not in regime["recipe"]
        assert row["seconds"] > 0 and row["error"] is None and row["host"]
        assert Path(row["checkpoint"]).is_file()
        assert row["source"] == "measured: training run"


def test_a_rerun_skips_finished_runs(swept):
    summary = sweep(*swept["args"])
    assert (summary["done"], summary["ran_now"], summary["left"]) == (2, 0, 0)
    assert rows(swept["store"]) == swept["rows"]


def test_a_different_regime_is_refused_and_the_store_left_alone(swept):
    args = list(swept["args"])
    args[args.index("--epochs") + 1] = "2"
    with pytest.raises(
        AdvisorError, match=r"another regime .*differs in epochs.*--allow-mixed-regimes"
    ):
        sweep(*args)
    assert rows(swept["store"]) == swept["rows"]


def test_the_store_and_its_csv_export_load_as_scaling_results(swept, tmp_path):
    from_store = load_results(swept["store"])
    csv_path = tmp_path / "runs.csv"
    assert sweep("--store", str(swept["store"]), "--export", str(csv_path))["rows"] == 2
    from_csv = load_results(csv_path)
    assert (
        sorted(from_store.params)
        == sorted(from_csv.params)
        == sorted(r["params"] for r in swept["rows"])
    )
    assert sorted(from_csv.accuracy) == pytest.approx(sorted(r["accuracy"] for r in swept["rows"]))
    assert from_csv.regime() == {"dataset": "tiny", "resolution": 8, "epochs": 1}


@pytest.mark.usefixtures("train_extra")
def test_a_missing_data_set_is_refused_before_any_run(tmp_path, grid_file):
    store = tmp_path / "s.db"
    with pytest.raises(AdvisorError, match="no-such-data does not exist"):
        sweep(
            "--grid",
            str(grid_file()),
            "--data",
            str(tmp_path / "no-such-data"),
            *TINY_REGIME,
            "--store",
            str(store),
        )
    assert not store.exists() or rows(store) == []


@pytest.mark.usefixtures("train_extra")
def test_failed_runs_are_recorded_and_do_not_stop_the_sweep(tmp_path, grid_file):
    store = tmp_path / "s.db"
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"not a zip archive")
    args = [
        "--grid",
        str(grid_file(TINY_CONFIGS[:2])),
        "--data",
        str(broken),
        *TINY_REGIME,
        "--store",
        str(store),
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    summary = sweep(*args)
    assert (summary["done"], summary["failed"], summary["ran_now"]) == (0, 2, 2)
    stored = rows(store)
    assert [row["status"] for row in stored] == ["failed", "failed"]
    assert all("broken.zip" in row["error"] for row in stored)
    assert sweep(*args)["ran_now"] == 0  # failures are not retried unless asked
    assert sweep(*args, "--retry-failed")["ran_now"] == 2


def test_a_short_sweep_scales_the_warm_up_as_train_does(tmp_path, tiny_data):
    grid = tmp_path / "grid.json"
    grid.write_text(json.dumps({"configs": TINY_CONFIGS[:1]}))
    common = ["--grid", str(grid), "--data", str(tiny_data), "--resolution", "8", "--limit", "0"]
    summary = sweep(*common, "--epochs", "3", "--store", str(tmp_path / "three.db"))
    assert summary["regime"]["recipe"]["warmup_epochs"] == 0  # 10/110 of 3, rounded
    summary = sweep(*common, "--epochs", "22", "--store", str(tmp_path / "long.db"))
    assert summary["regime"]["recipe"]["warmup_epochs"] == 2
